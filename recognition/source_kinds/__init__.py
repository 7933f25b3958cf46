"""The built-in kinds of frame source, one module each; ``recognition.sources`` registers every module's
``SOURCE_KIND``. A new kind is one module here (schemes, URL rules, help text, opener) plus its test, or an
out-of-tree package with an entry point in the ``lfr_portal.frame_sources`` group (docs/architecture.md)."""
