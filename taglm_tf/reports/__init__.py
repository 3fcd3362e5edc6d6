"""What run directories say: the model card of one run or export (``model_card``), and the
multi-seed sweeps and reproduction report (run records, groups, statistics, the paper's tables,
Markdown and plots). Reports read run directories, never the code that made them."""
