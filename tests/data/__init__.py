# Makes these modules "data.test_*", so their generic names (test_pipeline, test_conll, ...)
# cannot clash with same-named test modules elsewhere under tests/.
