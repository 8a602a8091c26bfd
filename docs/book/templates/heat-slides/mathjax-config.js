// MathJax 3 settings for the slide decks: $...$ inline as in Jupyter's Markdown, and no typesetting
// inside code cells and their outputs, where a $ is Rust, not TeX.
window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']], processEscapes: true},
  options: {ignoreHtmlClass: 'tex2jax_ignore|jp-CodeCell'}
};
