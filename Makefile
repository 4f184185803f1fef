# prunelab - build, test, benchmark and demo entry points.
#
#   make            build libprunelab.a and the prunelab command (build/)
#   make demo       install missing Debian packages, build, run experiments/quickstart.yaml
#   make figures EXP=experiments/x.yaml   draw the experiment's figures (PNG + PDF) from its results
#   make test       install missing Debian packages, build and run the Criterion suite
#   make test-asan  the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make test-slurm prunelab slurm on a real one-node Slurm (root; installs slurm-wlm, munge)
#   make test-mpi   prunelab run --mpi under OpenMPI's mpirun -n 3
#   make demo-asan  the quickstart in miniature with prunelab built under ASan + UBSan (CI)
#   make deps       install the Debian packages prunelab needs (apt-get; root or sudo)
#   make bench-kernels   linear-layer throughput vs raw SGEMM vs the FP32 peak; attention's
#                        per-head products, OpenBLAS vs libxsmm
#   make bench-train     one training step, C vs the PyTorch twin (tiny, small, base; FP32 and BF16);
#                        sweep throughput
#   make profile-train   where a training step's time goes, by kernel (perf; PRESET=small, PRECISION=fp32)
#   make bench-memory    finetune peak RSS: default teacher vs a teacher checkpoint (MODEL=tiny|small)
#   make bench-decode    greedy decoding of the small teacher, KV cache vs full recomputation
#   make bench-distill   a distill step of the small teacher's even student vs a lambda = 0 step
#   make fuzz       run each fuzz target for FUZZ_SECONDS (libFuzzer, clang): YAML, JSON,
#                   safetensors, IDX, overrides, where: expressions, user-data TSV
#   make check-same REF=<commit>  the same outputs as REF's prunelab (a change that computes nothing new)
#   make campaigns  20 kill -9 of a sweep with shared stages, 5 rounds of two concurrent sweeps

NPROC      := $(shell nproc 2>/dev/null || echo 1)
MAKEFLAGS  += -j$(NPROC) --no-print-directory
MULTIARCH  := $(shell gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
BLAS_DIR   := /usr/lib/$(MULTIARCH)/openblas-openmp
BLAS_INC   := /usr/include/$(MULTIARCH)/openblas-openmp
HDF5_INC   := /usr/include/hdf5/serial
HDF5_LIB   := /usr/lib/$(MULTIARCH)/hdf5/serial
# OpenMPI (Debian's libopenmpi-dev) for `prunelab run --mpi`; only engine/mpi_comm.c sees mpi.h.
MPI_INC    := /usr/lib/$(MULTIARCH)/openmpi/include
MPI_LIB    := /usr/lib/$(MULTIARCH)/openmpi/lib

BUILD      ?= build
CC         := gcc
# GCC 12 at -O2 vectorises only loops whose trip count is a known multiple of the vector
# width ("very cheap" cost model); the dynamic model lets our kernels use AVX-512.
OPT        ?= -O2 -march=native -fvect-cost-model=dynamic
SANITIZE   ?=
CPPFLAGS   := -Iframework -I$(BLAS_INC) -I$(HDF5_INC) -D_FILE_OFFSET_BITS=64
CFLAGS     := -std=c11 $(OPT) -fno-math-errno -g -Wall -Wextra -Werror -fopenmp $(SANITIZE) -MMD -MP
LDFLAGS    := -fopenmp $(SANITIZE) -L$(BLAS_DIR) -Wl,-rpath,$(BLAS_DIR) -L$(HDF5_LIB) -L$(MPI_LIB)
LDLIBS     := -lopenblas -ldnnl -lhdf5_hl -lhdf5 -lyaml -lmpi -lcrypto -lz -lm

LIB_SRC    := $(filter-out framework/cli/%,$(wildcard framework/*/*.c))
CLI_SRC    := $(wildcard framework/cli/*.c)
TEST_SRC   := $(wildcard tests/*.c)
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ    := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ   := $(TEST_SRC:%.c=$(BUILD)/%.o)
LIB        := $(BUILD)/libprunelab.a
BIN        := $(BUILD)/prunelab
TEST_BIN   := $(BUILD)/run_tests

DEB_PACKAGES := gcc make libyaml-dev libhdf5-dev hdf5-tools libopenblas-openmp-dev \
                libcriterion-dev gnuplot-nox zlib1g-dev libssl-dev dataset-fashion-mnist \
                libopenmpi-dev openmpi-bin libdnnl-dev

.PHONY: check-same all demo demo-asan demo-asan-run figures deps xsmm-deps test test-asan test-slurm test-mpi bench-kernels bench-train profile-train bench-memory bench-decode bench-distill fuzz campaigns clean reference-fixtures
.DEFAULT_GOAL := all

all: $(BIN)

# Installs whatever of DEB_PACKAGES is missing; silent when everything is present.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "prunelab: installing missing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# V=1 prints the full compiler command lines.
Q := $(if $(V),,@)
$(BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC  $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/framework/engine/mpi_comm.o: CPPFLAGS += -I$(MPI_INC)

# The compile flags every metrics.h5 records as its `cflags` attribute (io/provenance.c).
$(BUILD)/framework/io/provenance.o: CPPFLAGS += -DPL_BUILD_CFLAGS='"$(filter-out -MMD -MP,$(CFLAGS))"'

# Where `prunelab plot` finds its gnuplot templates unless told otherwise (--templates or
# PRUNELAB_ANALYSIS_DIR).
$(BUILD)/framework/cli/cmd_plot.o: CPPFLAGS += -DPL_ANALYSIS_DIR='"$(CURDIR)/analysis"'

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(TEST_BIN): $(TEST_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(LIB) $(LDLIBS) -lcriterion

# The main job on the built-in default: the quickstart sweep (shipped tiny teacher -> Wanda at
# a 3x3 sv x sl grid -> SparseLoRA + KD recovery), its figures, and where they are. The
# teacher is retrained (about 6 minutes) only when the shipped file is missing.
TEACHER := experiments/teachers/tiny.safetensors
$(TEACHER): | $(BIN)
	@mkdir -p $(dir $@)
	$(BIN) train experiments/teacher_tiny.yaml --out $@

demo: $(BIN) $(TEACHER)
	$(BIN) run experiments/quickstart.yaml
	$(BIN) plot results/quickstart
	@echo "figures:"; ls -1 results/quickstart/figures/*.png results/quickstart/figures/*.pdf

# The figures an experiment declares, from results/<experiment>/ (see README: Figures and export).
figures: $(BIN)
	@test -n "$(EXP)" || { echo "usage: make figures EXP=experiments/<name>.yaml"; exit 2; }
	$(BIN) plot $(EXP)

# Criterion runs tests in forked workers; the suite itself is deterministic.
test: $(TEST_BIN) $(BIN)
	$(TEST_BIN) $(TEST_ARGS)

# Against the real things: a one-node Slurm brought up on localhost (slurm-wlm and munge,
# installed when missing; tests/cluster/slurm_up.sh) and OpenMPI's mpirun with 3 ranks.
# Each runs tests/cluster/sweep.yaml and compares it with a local run bit for bit.
test-slurm: $(BIN)
	tests/cluster/test_slurm.sh $(BIN)

test-mpi: $(BIN)
	tests/cluster/test_mpi.sh $(BIN)

test-asan:
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp $(MAKE) BUILD=build-asan OPT="-O1 -fno-omit-frame-pointer" \
	  SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=undefined" test

# The quickstart in miniature under AddressSanitizer + UndefinedBehaviorSanitizer: the
# prunelab command built as test-asan builds it (build-asan/), the shipped tiny teacher
# pruned at two points (sv 0.3 and 0.7, sl 0.5) with 16 calibration scenes, 4 finetune
# steps, both evals on 32 scenes and a one-thread bench of 8 samples, then status, collect
# and plot (scripts only) on the results, which go to a temporary directory. Any sanitizer
# report or failed run fails it. Measured on 2 cores while another job used them: 7 s with
# build-asan/ built (as .ci/run has it after test-asan), 36 s building it from nothing.
DEMO_ASAN_OVERRIDES := 'pipeline.prune.sparsity.vision=0.3,0.7' 'pipeline.prune.sparsity.language=0.5' \
  'pipeline.prune.calib_size=16' 'pipeline.finetune.steps=4' 'pipeline.finetune.warmup=1' \
  'pipeline.finetune.batch_size=8' 'pipeline.2.eval.samples=32' 'pipeline.4.eval.samples=32' \
  'pipeline.bench.samples=8' 'pipeline.bench.batch_sizes=[1,8]' 'pipeline.bench.threads=[1]' \
  'pipeline.bench.repeats=1' 'pipeline.bench.warmup=0' 'engine.jobs=2'
demo-asan:
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp $(MAKE) BUILD=build-asan OPT="-O1 -fno-omit-frame-pointer" \
	  SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=undefined" demo-asan-run

demo-asan-run: $(BIN) $(TEACHER)
	@out=$$(mktemp -d /tmp/prunelab_demo_asan_XXXXXX) && \
	  echo "demo-asan: the quickstart in miniature under ASan + UBSan, results in $$out" && \
	  $(BIN) run experiments/quickstart.yaml $(DEMO_ASAN_OVERRIDES) engine.results_dir=$$out && \
	  $(BIN) status $$out/quickstart && $(BIN) collect $$out/quickstart >/dev/null && \
	  $(BIN) plot $$out/quickstart --no-render; \
	  rc=$$?; rm -rf "$$out"; \
	  if [ $$rc -eq 0 ]; then echo "demo-asan: passed"; else echo "demo-asan: FAILED (exit $$rc)"; fi; exit $$rc

BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
$(BUILD)/bench/%: bench/%.c $(LIB) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# bench_train records the products of a step through these wrappers (see its header).
$(BUILD)/bench/bench_train: LDFLAGS += -Wl,--wrap=cblas_sgemm -Wl,--wrap=pl_bf16_gemm_run \
  -Wl,--wrap=pl_bf16_gemm_run_into_zeros

# Then attention's per-head products: OpenBLAS against libxsmm (installs libxsmm-dev if
# missing; only this benchmark links it).
bench-kernels: $(BUILD)/bench/bench_kernels $(BUILD)/bench/bench_attention_gemm
	$(BUILD)/bench/bench_kernels
	@echo
	$(BUILD)/bench/bench_attention_gemm

$(BUILD)/bench/bench_attention_gemm: LDLIBS := -lxsmm -ldl $(LDLIBS)
$(BUILD)/bench/bench_attention_gemm: | xsmm-deps
# After deps: two apt-get runs at once would fight over dpkg's lock on a fresh machine.
xsmm-deps: | deps
	@dpkg-query -W -f='$${Status}' libxsmm-dev 2>/dev/null | grep -q 'install ok installed' || \
	  { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq \
	  --no-install-recommends libxsmm-dev; }

# C training step vs the PyTorch twin (installs python3-torch and bc when missing), then
# sweep throughput by engine setting (jobs 2 x threads 1 against 1 x 1 and 1 x 2).
bench-train: $(BUILD)/bench/bench_train $(BIN)
	@for p in python3-torch bc; do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$p; }; done
	bench/bench_train.sh $(BUILD)/bench/bench_train tiny small base
	bench/bench_sweep.sh $(BIN)

# A perf profile of the timed training steps, grouped by kernel (installs linux-perf if missing).
PRESET ?= small
PRECISION ?= fp32
profile-train: $(BUILD)/bench/bench_train
	@command -v perf >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf; }
	bench/profile_train.sh $(BUILD)/bench/bench_train $(PRESET) 32 30 $(PRECISION)

# Peak memory of finetune with the default teacher (same weights) vs a teacher checkpoint.
MODEL ?= tiny
# KV-cached greedy decoding against full recomputation on 1000 test scenes of the small
# teacher (scenes/s of both, their ratio, and how the two decodings agree).
bench-decode: $(BUILD)/bench/bench_decode
	$(BUILD)/bench/bench_decode experiments/teachers/small.safetensors 1000 64 3

# The reliability campaigns: kill -9 of a sweep with shared stages at 20 random moments,
# then a full re-run (nothing completed lost or recomputed, every file readable), and two
# concurrent sweeps of one experiment 5 times (each stage and run done once).
# A change meant to compute nothing new, against the prunelab of commit REF (README).
check-same:
	@test -n "$(REF)" || { echo "usage: make check-same REF=<commit> [BF16=1]"; exit 2; }
	+tests/check_same_outputs.sh $(REF) $(if $(BF16),--bf16)

campaigns: $(TEST_BIN)
	PRUNELAB_KILL_ROUNDS=20 $(TEST_BIN) --filter 'engine_kill/*' --verbose=0
	PRUNELAB_LOCK_REPEATS=5 $(TEST_BIN) --filter 'engine_locks/two_processes*' --verbose=0

bench-distill: $(BUILD)/bench/bench_distill
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BUILD)/bench/bench_distill experiments/teachers/small.safetensors even 32 20 5

bench-memory: $(BIN)
	/usr/bin/python3 bench/bench_memory.py $(BIN) $(MODEL)

# Fuzz targets: tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput; seeds live in
# tests/fuzz/corpus/<name>/ (put a crash's input there too: tests/test_fuzz_<name>.c replays
# the corpus in the test suite). The library is compiled with clang without OpenMP pragmas.
FUZZ_SECONDS ?= 60
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
build-fuzz/%: tests/fuzz/%.c $(LIB_SRC) | deps fuzz-deps
	@mkdir -p build-fuzz
	clang $(CPPFLAGS) -I$(MPI_INC) -std=c11 -g -O1 -Wno-unknown-pragmas -fsanitize=fuzzer,address,undefined \
	  -o $@ $< $(LIB_SRC) -L$(BLAS_DIR) -Wl,-rpath,$(BLAS_DIR) -L$(HDF5_LIB) -L$(MPI_LIB) $(LDLIBS) -lgomp

# clang (libFuzzer) is only needed here, so it is installed here rather than by `make deps`.
fuzz-deps:
	@command -v clang >/dev/null || { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq clang; }

fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do name=$$(basename $$f); \
	  mkdir -p build-fuzz/corpus-$$name; \
	  echo "fuzzing $$name for $(FUZZ_SECONDS) s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -detect_leaks=1 \
	    build-fuzz/corpus-$$name tests/fuzz/corpus/$$name || exit 1; \
	done

# The PyTorch reference fixtures (needs python3-torch; `make test` only reads the results).
REF_DIR := tests/reference/fixtures
$(BUILD)/tests/make_reference_inputs: tests/reference/make_reference_inputs.c $(LIB) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

reference-fixtures: $(BUILD)/tests/make_reference_inputs
	@dpkg-query -W -f='$${Status}' python3-torch 2>/dev/null | grep -q 'install ok installed' || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch; }
	@mkdir -p $(REF_DIR) $(REF_DIR)_shaped
	$(BUILD)/tests/make_reference_inputs $(REF_DIR) uniform
	/usr/bin/python3 tests/reference/vlm_reference.py $(REF_DIR)
	$(BUILD)/tests/make_reference_inputs $(REF_DIR)_shaped shaped
	/usr/bin/python3 tests/reference/vlm_reference.py $(REF_DIR)_shaped

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
