#!/bin/sh
# `make demo`: the whole TagLM pipeline in a few minutes on CPU.
#   1. pretrain a tiny forward and a tiny backward LSTM LM (side by side),
#   2. train the NER tagger with their frozen embeddings at the output of RNN-1 (paper Eq. 3),
#   3. tag a sentence with the saved model (CoNLL columns, then JSON),
# then print what to try next (the tagging CLI, the Python API, TensorBoard).
# On CoNLL-2003 + the shared news corpus when TAGLM_DATA_DIR has them, else on the synthetic
# sample shipped in taglm_tf/resources. Environment: BIN (venv bin dir), DEMO_DIR, DEMO_SENTENCE.
set -eu
: "${BIN:=.venv/bin}" "${DEMO_DIR:=runs/demo}"
: "${DEMO_SENTENCE:=Anna Novak of Kestrel Bank met EU officials in Paris on Monday .}"
if [ -f "${TAGLM_DATA_DIR:-data}/conll2003/eng.train" ] && \
   [ -f "${TAGLM_DATA_DIR:-data}/unlabeled/abc_science.tok.txt.xz" ]; then
  echo "== TagLM demo on CoNLL-2003 and the news corpus in ${TAGLM_DATA_DIR}"
  lm_flags=experiments/flags/lm_demo_cpu.cfg tagger_flags=experiments/flags/ner_demo.cfg
  heldout=unlabeled/lm1b_heldout_shards12-13.tokens.gz  # training scored 10-11; the report uses 12-13
  [ -f "${TAGLM_DATA_DIR:-data}/$heldout" ] || heldout=""
else
  echo "== no CoNLL-2003 + news corpus under ${TAGLM_DATA_DIR:-data}: TagLM demo on the shipped synthetic sample"
  lm_flags=experiments/flags/lm_demo_sample.cfg tagger_flags=experiments/flags/ner_demo_sample.cfg
  heldout=""
fi
# A demo replaces its own earlier folder only: one it did not write is never removed.
mark="$DEMO_DIR/.made-by-make-demo"
if [ -e "$DEMO_DIR" ] && [ ! -f "$mark" ] && [ -n "$(ls -A "$DEMO_DIR" 2>/dev/null || echo file)" ]; then
  echo "error: $DEMO_DIR: not made by make demo (or by one older than its mark), and not empty: give DEMO_DIR=another folder (or remove it yourself)" >&2
  exit 1
fi
rm -rf "$DEMO_DIR"
mkdir -p "$DEMO_DIR"
touch "$mark"

echo "== 1/3 pretraining a forward and a backward LM ($lm_flags; logs in $DEMO_DIR/lm_*.log)"
pids=""
for direction in forward backward; do
  "$BIN/python" -m experiments.pretrain_lm --flagfile="$lm_flags" --direction=$direction \
      --model_dir="$DEMO_DIR/lm_$direction" > "$DEMO_DIR/lm_$direction.log" 2>&1 &
  pids="$pids $!"
done
# While they train, show each LM's log lines "step N: loss ..." (every --log_every steps) as they come.
show_lm_steps() {  # show_lm_steps DIRECTION SHOWN: print its step lines after the first SHOWN; sets $seen
  seen=$(grep -c '^step ' "$DEMO_DIR/lm_$1.log" || true)
  if [ "$seen" -gt "$2" ]; then
    grep '^step ' "$DEMO_DIR/lm_$1.log" | sed -n "$(($2 + 1)),${seen}p" | sed "s/^/   $1 LM: /"
  fi
}
seen_forward=0 seen_backward=0
while :; do
  running=0
  for pid in $pids; do kill -0 "$pid" 2>/dev/null && running=1; done
  show_lm_steps forward "$seen_forward"; seen_forward=$seen
  show_lm_steps backward "$seen_backward"; seen_backward=$seen
  [ "$running" = 1 ] || break
  sleep 2
done
failed=0
for pid in $pids; do wait "$pid" || failed=1; done
for direction in forward backward; do tail -n 1 "$DEMO_DIR/lm_$direction.log"; done
[ "$failed" = 0 ] || { echo "LM pretraining failed: see $DEMO_DIR/lm_*.log" >&2; exit 1; }
if [ -n "$heldout" ]; then  # recorded beside each LM, where the tagger's model card finds it
  for direction in forward backward; do
    "$BIN/python" -m experiments.eval_lm --model_dir="$DEMO_DIR/lm_$direction" --eval_files="$heldout" \
        --max_sentences=500 --record
  done
fi

echo "== 2/3 training TagLM: $tagger_flags + [h_fwd; h_bwd] at the output of RNN-1"
"$BIN/python" -m experiments.ner --flagfile="$tagger_flags" --model_dir="$DEMO_DIR/tagger" \
    --forward_lm="lstm_lm:$DEMO_DIR/lm_forward" --backward_lm="lstm_lm:$DEMO_DIR/lm_backward" \
    --lm_cache_dir="$DEMO_DIR/lm_cache" --insertion_point=rnn1_output

echo "== 3/3 tagging: $DEMO_SENTENCE"
echo "$DEMO_SENTENCE" | "$BIN/python" -m taglm_tf.tag --model_dir="$DEMO_DIR/tagger"
echo "$DEMO_SENTENCE" | "$BIN/python" -m taglm_tf.tag --model_dir="$DEMO_DIR/tagger" --format=json

cat <<EOF
== now try:
  # tag your own text (raw text is split into sentences and tokens; --progress shows tokens/s)
  echo "Anna Novak met EU officials in Paris." | $BIN/python -m taglm_tf.tag --model_dir=$DEMO_DIR/tagger --format=json
  $BIN/python -m taglm_tf.tag --model_dir=$DEMO_DIR/tagger --input=FILE --output_scheme=bioes --output=tagged.conll
  $BIN/python -m taglm_tf.tag --model_dir=$DEMO_DIR/tagger --info    # the model card
  # from Python
  $BIN/python -c 'from taglm_tf import Tagger; print(Tagger.load("$DEMO_DIR/tagger").predict("Anna Novak met EU officials in Paris.")[0].spans)'
  # training curves: per-step loss, dev F1, final test F1 and the hyper-parameters (HParams tab)
  $BIN/tensorboard --logdir=$DEMO_DIR
EOF
