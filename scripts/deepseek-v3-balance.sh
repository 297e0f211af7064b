#!/usr/bin/env bash
# Reproduces the expert-balancing numbers of docs/deepseek-v3.md: a tiny DeepSeek-V3 (MLA + 8-expert
# DeepSeekMoE + 1 MTP module) pretrained 120 steps on toy documents with and without the
# auxiliary-loss-free bias update (γ = 0.01), printing max/mean expert load over the last 4 logged steps.
# Runs DeepseekV3PretrainTest#biasUpdateBalancesTheExperts (a few minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${JAVA_HOME:-}" ] && [ -d /usr/lib/jvm/temurin-25-jdk-amd64 ]; then export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64; fi
[ -n "${JAVA_HOME:-}" ] && export PATH="$JAVA_HOME/bin:$PATH"
mvn -B -ntp -q -pl grpo -am verify -Dtest='DeepseekV3PretrainTest#biasUpdateBalancesTheExperts' \
    -Dsurefire.failIfNoSpecifiedTests=false -Djacoco.skip=true
grep -h "deepseek_v3 toy pretraining" grpo/target/surefire-reports/*DeepseekV3PretrainTest-output.txt
