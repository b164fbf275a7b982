//! Checks of the files a publiccode.yml names by a relative path (`logo`, `monochromeLogo`,
//! `description.*.screenshots`, `legal.authorsFile`), for when the repository is at hand:
//! what the reference parser checks for local files unless `DisableExternalChecks` is set.
//! Remote files (URLs) are not fetched: mediana sends no traffic for a validation.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The extensions a logo may have (the reference parser's `validLogo`).
const LOGO_EXTENSIONS: &[&str] = &["svg", "svgz", "png"];
/// The extensions a screenshot may have (`isImageFile`; `.jpeg` is not one).
const SCREENSHOT_EXTENSIONS: &[&str] = &["jpg", "png"];
/// The narrowest PNG logo the reference parser accepts: the standard asks for 1000 px,
/// upstream relaxes it "temporarily" to 120 px, and so does mediana.
const MIN_LOGO_WIDTH: usize = 120;
/// Enough of a PNG to read its header chunk (signature, IHDR length, type, width, height).
const PNG_HEADER: u64 = 64;

/// Why a file is refused, worded as the reference parser words it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileError {
    /// The extension is not one of those allowed for the key.
    #[error("invalid file extension for: {0}")]
    Extension(String),
    /// The file is not in the repository.
    #[error("no such file: {0}")]
    Missing(String),
    /// A `.png` logo that is not a PNG image (Go's `image.DecodeConfig` message).
    #[error("image: unknown format")]
    NotPng,
    /// A `.png` logo that could not be read.
    #[error("{0}")]
    Unreadable(#[from] std::io::Error),
    /// A PNG logo narrower than [`MIN_LOGO_WIDTH`].
    #[error("invalid image size of {width} (min {MIN_LOGO_WIDTH}px of width): {path}")]
    TooNarrow {
        /// The logo's width in pixels.
        width: usize,
        /// Where the logo is.
        path: String,
    },
}

/// A file of the repository, named by a path relative to its root.
pub(crate) struct LocalFile {
    path: PathBuf,
}

impl LocalFile {
    /// The file `value` names in `repository`. `None` for a URL (remote files are not
    /// fetched, and the reference parser does not check them without network either) and
    /// for an empty value, which upstream does not check.
    pub(crate) fn of(repository: &Path, value: &str) -> Option<Self> {
        let local = !value.is_empty() && !super::checks::uri(value);
        local.then(|| Self { path: repository.join(value) })
    }

    /// The path, as messages show it.
    pub(crate) fn display(&self) -> String {
        self.path.display().to_string()
    }

    fn extension_in(&self, allowed: &[&str]) -> Result<(), FileError> {
        let extension = self.path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
        match extension {
            Some(e) if allowed.contains(&e.as_str()) => Ok(()),
            _ => Err(FileError::Extension(self.display())),
        }
    }

    /// That the file exists (a directory counts, as Go's `os.Stat` finds it).
    pub(crate) fn exists(&self) -> Result<(), FileError> {
        std::fs::metadata(&self.path).map(|_| ()).map_err(|_| FileError::Missing(self.display()))
    }

    /// The width of a PNG image.
    fn png_width(&self) -> Result<usize, FileError> {
        let mut header = Vec::new();
        std::fs::File::open(&self.path)?.take(PNG_HEADER).read_to_end(&mut header)?;
        if !matches!(imagesize::image_type(&header), Ok(imagesize::ImageType::Png)) {
            return Err(FileError::NotPng);
        }
        imagesize::blob_size(&header).map(|size| size.width).map_err(|_| FileError::NotPng)
    }
}

/// A logo: an SVG or PNG image that exists; a PNG at least [`MIN_LOGO_WIDTH`] pixels wide.
/// SVG content is not checked, as upstream does not check it.
pub(crate) fn logo(file: &LocalFile) -> Result<(), FileError> {
    file.extension_in(LOGO_EXTENSIONS)?;
    file.exists()?;
    if file.path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
        let width = file.png_width()?;
        if width < MIN_LOGO_WIDTH {
            return Err(FileError::TooNarrow { width, path: file.display() });
        }
    }
    Ok(())
}

/// A screenshot: a JPEG or PNG file (by its extension) that exists.
pub(crate) fn screenshot(file: &LocalFile) -> Result<(), FileError> {
    file.extension_in(SCREENSHOT_EXTENSIONS)?;
    file.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/fixtures/publiccode/repository/`: a repository with a logo in each format.
    fn repository() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/publiccode/repository")
    }

    fn check_logo(name: &str) -> Option<Result<(), String>> {
        LocalFile::of(&repository(), name).map(|f| logo(&f).map_err(|e| e.to_string()))
    }

    fn path(name: &str) -> String {
        repository().join(name).display().to_string()
    }

    #[test]
    fn logos() {
        assert_eq!(check_logo("img/logo.png"), Some(Ok(())), "130 px wide");
        assert_eq!(check_logo("img/logo.svg"), Some(Ok(())));
        assert_eq!(
            check_logo("img/logo.jpg"),
            Some(Err(format!("invalid file extension for: {}", path("img/logo.jpg"))))
        );
        assert_eq!(check_logo("img/missing.png"), Some(Err(format!("no such file: {}", path("img/missing.png")))));
        assert_eq!(
            check_logo("img/narrow.png"),
            Some(Err(format!("invalid image size of 100 (min 120px of width): {}", path("img/narrow.png"))))
        );
        assert_eq!(check_logo("img/not-a-png.png"), Some(Err("image: unknown format".to_owned())));
        assert_eq!(check_logo("https://example.com/logo.jpg"), None, "remote files are not fetched");
    }

    #[test]
    fn screenshots_by_extension_and_existence() {
        let file = |name: &str| LocalFile::of(&repository(), name).expect("a relative path");
        assert!(screenshot(&file("img/screenshot.png")).is_ok());
        assert!(screenshot(&file("img/logo.jpg")).is_ok(), "the content of a screenshot is not read");
        assert!(matches!(screenshot(&file("img/logo.svg")), Err(FileError::Extension(_))));
        assert!(matches!(screenshot(&file("shot.jpeg")), Err(FileError::Extension(_))));
        assert!(matches!(screenshot(&file("img/missing.png")), Err(FileError::Missing(_))));
    }
}
