"""Developer tools run from the repository root: data generators and the lm_1b yardsticks
(``tools.lm1b``). Not part of the installed package."""
