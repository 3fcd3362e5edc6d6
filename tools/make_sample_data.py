"""Write the synthetic CoNLL-2003-format sample that ships with the package.

    python tools/make_sample_data.py taglm_tf/resources

Every sentence comes from templates and invented word lists written for this project (no
Reuters text), tagged in IOB1 exactly as CoNLL-2003 is: ``word POS chunk NER``, ``-DOCSTART-``
lines between documents, ``B-`` only between adjacent entities of the same type. Also writes
``lm_sample.txt``: 3,000 unlabeled sentences from the same generator, one per line, on which the
demo pretrains its small LMs when the shared news corpus is absent.
"""

import argparse
import os
import random

FIRST = [
    "Anna",
    "Boris",
    "Chen",
    "Dara",
    "Emeka",
    "Farah",
    "Goran",
    "Hana",
    "Ivo",
    "Jules",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Oskar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tomas",
    "Uma",
    "Vera",
]
LAST = [
    "Abara",
    "Brandt",
    "Castell",
    "Dumas",
    "Eriksen",
    "Fontaine",
    "Gallo",
    "Holm",
    "Ivanova",
    "Jensen",
    "Kovac",
    "Larsen",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Quist",
    "Rossi",
]
PLACES = [
    "Norvia",
    "Port Alden",
    "Velmora",
    "Kestrel Bay",
    "Dunmore",
    "Larkfield",
    "East Orlan",
    "Sabrevale",
    "Tiberon",
    "Marisco",
    "Qualen",
    "Westhollow",
    "Brightwater",
    "Corvania",
]
ORGS = [
    "Alden Motors",
    "Velmora United",
    "Kestrel Bank",
    "Norvia Telecom",
    "Dunmore Mining",
    "Larkfield Rovers",
    "Orlan Airways",
    "Sabre Foods",
    "Tiberon Group",
    "Marisco Energy",
]
MISC = ["Norvian", "Velmoran", "Kestrelian", "Orlanese", "Tiberonian", "Corvanian"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
NUMBERS = ["3", "12", "45", "7.5", "1996", "20", "8"]

# Templates: {PER} {LOC} {ORG} {MISC} are entities; {DAY} {NUM} plain words.
TEMPLATES = [
    "{PER} said on {DAY} that {ORG} would open an office in {LOC} .",
    "{ORG} shares rose {NUM} percent in {LOC} after {PER} joined the board .",
    "The {MISC} minister {PER} arrived in {LOC} for talks with {ORG} .",
    "{PER} scored twice as {ORG} beat {ORG} {NUM} - 1 in {LOC} .",
    "{LOC} and {LOC} signed a trade deal on {DAY} .",
    "{ORG} , based in {LOC} , reported a profit of {NUM} million .",
    "{PER} , a {MISC} citizen , told reporters the plan was fair .",
    "Police in {LOC} said {NUM} people were hurt on {DAY} .",
    "{PER} {PER} met on {DAY} in {LOC} .",
    "Analysts at {ORG} expect the {MISC} economy to grow {NUM} percent .",
]
TAGS = {"PER": "NNP", "LOC": "NNP", "ORG": "NNP", "MISC": "JJ"}


def entity(kind, rng):
    if kind == "PER":
        return [rng.choice(FIRST), rng.choice(LAST)] if rng.random() < 0.7 else [rng.choice(LAST)]
    return {"LOC": rng.choice(PLACES), "ORG": rng.choice(ORGS), "MISC": rng.choice(MISC)}[kind].split()


def sentence(rng):
    rows, last_type = [], None
    for piece in rng.choice(TEMPLATES).split():
        if piece.startswith("{") and piece[1:-1] in TAGS:
            kind = piece[1:-1]
            for i, word in enumerate(entity(kind, rng)):
                prefix = "B" if i == 0 and last_type == kind else "I"
                rows.append((word, TAGS[kind], "I-NP", f"{prefix}-{kind}"))
            last_type = kind
            continue
        word = {"{DAY}": rng.choice(DAYS), "{NUM}": rng.choice(NUMBERS)}.get(piece, piece)
        pos = "CD" if word[0].isdigit() else ("." if word in ".," else "NN")
        rows.append((word, pos, "O" if pos == "." else "I-NP", "O"))
        last_type = None
    return rows


def write_split(path, n_sentences, rng):
    lines = []
    for i in range(n_sentences):
        if i % 10 == 0:
            lines += ["-DOCSTART- -X- -X- O", ""]
        lines += [" ".join(row) for row in sentence(rng)] + [""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def write_text(path, n_sentences, rng):
    """Unlabeled sentences, one per line, space-tokenized: LM pretraining text for the demo."""
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(" ".join(row[0] for row in sentence(rng)) + "\n" for _ in range(n_sentences))


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(2017)
    for name, n in (("ner_sample.train", 400), ("ner_sample.dev", 100), ("ner_sample.test", 100)):
        write_split(os.path.join(out_dir, name), n, rng)
    write_text(os.path.join(out_dir, "lm_sample.txt"), 3000, random.Random(2018))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", nargs="?", default="taglm_tf/resources", help="(default: %(default)s)")
    main(parser.parse_args().out_dir)
