#!/usr/bin/env bash
# Every run of results/cpu_pixels/, as it was trained (from the repository root, one thread each;
# two at a time fit on a 2-core machine). A finished run is skipped (its eval.csv reaches its
# budget); delete its folder to train it again. Re-running a command with a smaller --frames
# reproduces the stored eval.csv up to that budget on the same machine (README.md, "Reproducible").
set -euo pipefail
export OMP_NUM_THREADS=1 MUJOCO_GL="${MUJOCO_GL:-egl}"
PY="${PYTHON:-python}"
R=results/cpu_pixels/runs

run() {  # run OUT ARGS...: train unless OUT already holds a complete run
  local out=$1; shift
  if [ -f "$out/config.json" ] && grep -q '"status": "complete"' "$out/config.json"; then
    echo "done: $out"; return
  fi
  "$PY" -m course_lib.train "$@" --no-video --device cpu --out "$out"
}

# The random-policy floor (50 episodes per task, action repeat 8 as the cartpole runs).
"$PY" -m course_lib.baselines --tasks cartpole_balance cartpole_swingup --episodes 50 --action-repeat 8 \
    --csv results/cpu_pixels/random.csv

for task in cartpole_balance cartpole_swingup; do
  for seed in 1 2; do
    # DrQ (SAC) from pixels, the CPU pixel setting: 50,000 frames = 6,250 agent steps and updates.
    run $R/sac-pixels/$task/mlp2/seed_$seed --agent sac --obs pixels --profile cpu --task $task --seed $seed
    # DrQ-v2 (DDPG) from pixels, penultimate normalization of the actor: 100,000 frames (an update
    # every 2nd agent step, so the same 6,250 updates). Seed 1 of cartpole_balance was trained to
    # 50,000 frames first and continued with --resume --frames 100000 (equal to one go, tested).
    run $R/ddpg-pixels/$task/mlp2-pnorm_actor/seed_$seed --agent ddpg --obs pixels --profile cpu \
        --frames 100000 --pnorm actor --task $task --seed $seed
    # The same agents from states, at the same frame budgets (the course's state settings).
    run $R/sac-state/$task/mlp2/seed_$seed --agent sac --obs state --frames 50000 --task $task --seed $seed
    run $R/ddpg-state/$task/mlp2-pnorm_actor/seed_$seed --agent ddpg --obs state --frames 100000 \
        --pnorm actor --task $task --seed $seed
  done
done

# DrQ-v2 as the paper ran it (no penultimate normalization), and with the modern heads of Table 1
# (critic 4 residual blocks, actor 2) with and without SN and penultimate normalization: cartpole_balance,
# seed 1, 30,000 frames each (about 5 minutes; saturation shows within the first updates).
run $R/ddpg-pixels/cartpole_balance/mlp2/seed_1 --agent ddpg --obs pixels --profile cpu --frames 30000 \
    --task cartpole_balance --seed 1
for variant in "modern4:" "modern4+sn:--sn" "modern4-pnorm_actor:--pnorm actor" "modern4+sn-pnorm_actor:--sn --pnorm actor"; do
  name=${variant%%:*}; flags=${variant#*:}
  # shellcheck disable=SC2086
  run $R/ddpg-pixels/cartpole_balance/$name/seed_1 --agent ddpg --obs pixels --profile cpu --frames 30000 \
      --arch modern --depth 4 $flags --task cartpole_balance --seed 1
done
