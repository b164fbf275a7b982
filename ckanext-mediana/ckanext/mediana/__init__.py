"""mediana's CKAN extension: DCAT-AP_IT 2.0 datasets (schema, validators, ckanext-dcat profile)."""
