//! The UI's page: one self-contained HTML file (`page.html`: markup, CSS and plain
//! JavaScript, no external resources) that polls the JSON API every second and draws
//! the timelines, histograms and plan graph as inline SVG.

/// The page.
pub(crate) const PAGE: &str = include_str!("page.html");
