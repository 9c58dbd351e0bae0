"""Test scaffolding only: the ``hpy`` names HPy 0.9's own test-suite imports,
answered by hpy-build, so that suite runs unchanged against hpy-build.
Debug and trace modes are not part of hpy-build yet; their tests are deselected."""
