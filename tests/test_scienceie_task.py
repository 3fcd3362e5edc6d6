"""The ScienceIE task: BRAT folders in, scored by the ScienceIE definition during training, and the
same numbers from the BRAT files a trained tagger writes."""

import dataclasses
import os

import numpy as np
import pytest

from conftest import tiny_config
from data_paths import require_real_file
from taglm_tf.data import brat
from taglm_tf.data.tag_schemes import tags_to_chunks
from taglm_tf.scoring import brat_eval
from taglm_tf.serving.api import Tagger
from taglm_tf.tasks import SCIENCEIE, TASKS, sample_paths
from taglm_tf.training.experiment import run_experiment

pytestmark = pytest.mark.slow  # trains a tagger


def _brat_corpus(directory, sentences_per_doc=12):
    """The shipped NER sample as BRAT folders: each document is a run of sample sentences (tokens
    joined by spaces, a blank line between sentences), each entity a text-bound annotation."""
    folders = {}
    for split, path in sample_paths().items():
        folder = folders[split] = os.path.join(directory, split)
        os.makedirs(folder)
        sentences = TASKS["ner"].read(path)
        for d in range(0, len(sentences), sentences_per_doc):
            text, annotations = "", []
            for sentence in sentences[d : d + sentences_per_doc]:
                starts = []
                for token in sentence.tokens:
                    starts.append(len(text))
                    text += token + " "
                for chunk in tags_to_chunks(sentence.tags):
                    fragment = (
                        starts[chunk.start],
                        starts[chunk.end - 1] + len(sentence.tokens[chunk.end - 1]),
                    )
                    annotations.append(brat.TextBound(f"T{len(annotations) + 1}", chunk.type, (fragment,)))
                text = text[:-1] + "\n\n"
            name = os.path.join(folder, f"doc{d:04d}")
            with open(name + ".txt", "w", encoding="utf-8") as f:
                f.write(text)
            brat.write_ann(name + ".ann", annotations, text)
    return folders


@pytest.fixture(scope="module")
def scienceie_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scienceie")
    config = dataclasses.replace(tiny_config(tmp / "run"), task="scienceie", files=_brat_corpus(str(tmp)))
    return config, run_experiment(config)


def test_training_scores_match_the_brat_files_the_tagger_writes(scienceie_run, tmp_path):
    """dev and test F1 in results.json are what experiments.brat_eval gives for the .ann files
    that Tagger.write_brat writes for the same raw texts."""
    config, results = scienceie_run
    assert results["task"] == "scienceie" and results["test_f1"] > 0
    tagger = Tagger.load(config.model_dir)
    for split in ("dev", "test"):
        out = str(tmp_path / split)
        tagger.write_brat(config.files[split], out)
        scores = brat_eval.score_folders(config.files[split], out)
        assert scores.overall.f1 == pytest.approx(results[f"{split}_f1"], abs=1e-9)
        assert results["scores"][split]["per_type"] == pytest.approx(
            {t: c.f1 for t, c in scores.per_type.items()}
        )


def test_in_memory_and_folder_scores_agree(tmp_path):
    """Random predictions on the real dev set, scored in memory (as training does) and as written
    .ann files (as experiments.brat_eval does)."""
    gold = SCIENCEIE.read(str(require_real_file("scienceie", "dev", "S0003491613001516.ann").parent))
    rng = np.random.default_rng(1)
    tags = ["O", "B-Material", "I-Material", "B-Process", "I-Process", "B-Task", "I-Task"]
    predicted = [
        [s.tags[i] if rng.random() < 0.6 else str(rng.choice(tags)) for i in range(len(s))] for s in gold
    ]
    in_memory = SCIENCEIE.score(gold, predicted)
    by_document = {}
    for sentence, tags in zip(gold, predicted):
        by_document.setdefault(sentence.document, []).append((sentence, tags))
    for document, pairs in by_document.items():
        found = brat.annotations_from_tags([s for s, _ in pairs], [t for _, t in pairs])
        brat.write_ann(
            str(tmp_path / os.path.basename(document)[:-4]) + ".ann", found, brat.read_text(document)
        )
    folder = brat_eval.score_folders(os.path.dirname(gold[0].document), str(tmp_path))
    assert in_memory.value == pytest.approx(folder.overall.f1)
    assert in_memory.details["recall"] == pytest.approx(folder.overall.recall)
    assert dict(in_memory.per_type) == pytest.approx({t: c.f1 for t, c in folder.per_type.items()})


def test_gold_tags_lose_only_what_the_one_layer_rule_leaves_out():
    """Scoring the gold one-layer tags themselves: precision 100, recall = kept / all spans."""
    dev = str(require_real_file("scienceie", "dev", "S0003491613001516.ann").parent)
    gold = SCIENCEIE.read(dev)
    scores = SCIENCEIE.score(gold, [s.tags for s in gold])
    _, counts = brat.tagged_sentences(brat.read_folder(dev))
    spans = sum(
        len(brat_eval.span_types(os.path.join(dev, n))) for n in os.listdir(dev) if n.endswith(".ann")
    )
    assert scores.details["precision"] == 100.0
    assert scores.details["recall"] == pytest.approx(100.0 * counts.kept / spans)
