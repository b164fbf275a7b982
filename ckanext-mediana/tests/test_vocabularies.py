"""The vocabularies and validators, without a portal: values in and out of the schema."""

import json

import pytest
from ckan.plugins.toolkit import Invalid

from ckanext.mediana import validators, vocabularies


def test_the_vocabularies_hold_what_dcat_ap_it_names():
    assert len(vocabularies.themes()) == 14, "13 EU data themes and ckanext-dcatapit's OP_DATPRO"
    assert vocabularies.themes()["GOVE"].label("it") == "Governo e settore pubblico"
    assert {"ANNUAL", "UNKNOWN", "IRREG"} <= set(vocabularies.frequencies())
    assert vocabularies.frequencies()["ANNUAL"].label("it") != "ANNUAL", "labelled by the RDF"


def test_every_code_of_the_shipped_tables_is_accepted():
    # The real-time frequencies ckanext-dcatapit's table lacks, among them 1MIN.
    assert len(vocabularies.frequencies()) == len(vocabularies.codes("eu-frequency.txt")) == 41
    for code in vocabularies.codes("eu-frequency.txt"):
        assert validators.frequency(vocabularies.FREQUENCY_BASE + code, {}) == code
    assert vocabularies.frequencies()["1MIN"].label("it") == "1MIN", "no label yet: the code"
    for code in vocabularies.codes("eu-file-type.txt"):
        assert vocabularies.file_type(code).code == code
    assert set(vocabularies.themes()) == set(vocabularies.codes("eu-data-theme.txt"))
    # Not only three letters: OP_DATPRO and the deprecated 0D0 (Valencian) are codes too.
    assert len(vocabularies.languages()) == len(vocabularies.codes("eu-language.txt")) == 407
    for code in vocabularies.codes("eu-language.txt"):
        assert validators.languages(vocabularies.LANGUAGE_BASE + code, {}) == "{" + code + "}"
    assert set(vocabularies.LANGUAGES.values()) <= vocabularies.languages()
    assert vocabularies.file_type(".csv").uri == vocabularies.FILE_TYPE_BASE + "CSV"
    assert vocabularies.file_type("no such format") is None


@pytest.mark.parametrize(
    "value, code",
    [
        ("A21_CCBY40", "A21_CCBY40"),
        (vocabularies.LICENCE_BASE + "A11_CCO10", "A11_CCO10"),
        ("cc-by", "A21_CCBY40"),
        ("http://creativecommons.org/licenses/by/4.0/legalcode", "A21_CCBY40"),
        ("https://creativecommons.org/publicdomain/zero/1.0/", "A11_CCO10"),
    ],
)
def test_licences_are_found_by_agid_code_ckan_id_or_their_own_uri(value, code):
    assert vocabularies.licence(value).code == code


def test_themes_accept_codes_uris_and_json_and_store_json():
    stored = json.loads(validators.themes_aggregate("GOVE, " + vocabularies.THEME_BASE + "ECON", {}))
    assert stored == [{"theme": "GOVE", "subthemes": []}, {"theme": "ECON", "subthemes": []}]
    given = [{"theme": "ENVI", "subthemes": ["http://eurovoc.europa.eu/2470"]}]
    assert json.loads(validators.themes_aggregate(given, {})) == given


@pytest.mark.parametrize(
    "validator, value, message",
    [
        (validators.themes_aggregate, "GOVX", "theme 'GOVX' is not an EU data theme"),
        (validators.themes_aggregate, '[{"theme": "GOVE", "subthemes": "x"}]', "sub-themes of GOVE"),
        (validators.themes_aggregate, "[not json", "themes_aggregate is not JSON"),
        (validators.frequency, "SOMETIMES", "'SOMETIMES' is not an EU frequency"),
        (validators.iso_date, "31/05/2024", "'31/05/2024' is not an ISO 8601 date"),
        (validators.ipa_code, "comune di macerata", "is not an IPA code"),
        (validators.ipa_code, "c_e783/", "'c_e783/' is not an IPA code"),
        (validators.languages, "ITA klingon", "'klingon' is not a language code"),
        (validators.languages, "ITA XYZ", "'XYZ' is not a language code of the EU table"),
        (validators.temporal_coverage, [{"temporal_end": "2024-12-31"}], "needs a temporal_start"),
        (validators.licence, "my own licence", "is not a licence of the AgID vocabulary"),
    ],
)
def test_bad_values_are_refused_by_name(validator, value, message):
    with pytest.raises(Invalid) as refused:
        validator(value, {})
    assert message in str(refused.value.error)


def test_values_are_normalised_to_what_ckanext_dcatapit_stored():
    assert validators.frequency(vocabularies.FREQUENCY_BASE + "MONTHLY", {}) == "MONTHLY"
    assert validators.languages("it en", {}) == "{ITA,ENG}"
    assert validators.iso_date("2024-05-31T10:00:00", {}) == "2024-05-31"
    assert validators.ipa_code(" uni_bo/CLE/AFORM ", {}) == "uni_bo/CLE/AFORM"
    assert validators.ipa_code("01234567890", {}) == "01234567890"
    assert validators.licence("cc-by", {}) == vocabularies.LICENCE_BASE + "A21_CCBY40"
    assert json.loads(validators.temporal_coverage([{"start": "2024-01-01"}], {})) == [
        {"temporal_start": "2024-01-01", "temporal_end": None}
    ]
