# Thin wrapper over CMake. The README's two commands: `make demo` and `make test`.
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: all help deps build test bench demo lessons data pretrained generated grade grade-quick \
  starter sanitize fuzz clean

all: build

# Each program, its lesson, the command to try first and its training time.
help:
	@cat lessons/README.md

deps:
	@tools/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# The tests read Fashion-MNIST (Debian's dataset-fashion-mnist) and data/samples/.
test: build data
	cd $(BUILD) && ctest --output-on-failure --timeout 600 -j $(JOBS)

bench: build data
	@tools/install-deps.sh --bench
	cmake -S . -B $(BUILD) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	bin/bench_gemm
	@echo "reference train step, detlab then PyTorch 1.13 (tuned = glibc keeps freed memory, as"
	@echo "detlab's engine does; default = glibc's defaults): same script run, ratio = PyTorch / detlab ms"
	bin/bench_train_step --threads 2
	bin/bench_train_step --threads 1
	/usr/bin/python3 tools/bench/torch_train_step.py --allocator both --threads 2
	/usr/bin/python3 tools/bench/torch_train_step.py --allocator tuned --threads 1
	@echo "face-api's Tiny Face Detector (make pretrained), batch 1, 416x416: detlab vs PyTorch 1.13, same script run"
	@if [ -f data/pretrained/face-api/tiny_face_detector_model.safetensors ]; then \
	  /usr/bin/python3 tools/bench/torch_tiny_face.py --threads 2; \
	else echo "  skipped: run make pretrained first"; fi
	@echo "per-program throughput (training at the default batch, inference at batch 1)"
	/usr/bin/python3 tools/bench/program_table.py --out out/bench/programs.json
	@test -f $(GEN)/scenes/test/annotations.json || \
	  bin/datagen scenes --count 200 --split test --seed 2 --out $(GEN)/scenes/test
	@echo "lessons 04-06: test time per scene, proposals computed (Fast R-CNN paper, VGG16: 146x w/o proposals; Faster R-CNN: 0.2 s vs 2.3 s with them; YOLO 45 fps, SSD300 46 fps, Faster R-CNN 7 fps)"
	bin/compare --bench --methods rcnn,spp_net,fast_rcnn,faster_rcnn,yolo,ssd --limit 50
	@echo "lessons 04-05 at the papers' geometry (VGG16, 800x600 photo, 2000 proposals; R-CNN extrapolated from 4 crops)"
	bin/compare --bench --geometry paper

data:
	tools/fetch-data.sh

# face-api's trained face networks (npm package, MIT) for bin/faces, then imported into
# detlab's safetensors (lessons/06, lessons/02). Nothing is fetched at run time.
FACEAPI = data/pretrained/face-api
pretrained: build
	tools/fetch-data.sh --pretrained
	@for net in tiny_face_detector_model ssd_mobilenetv1_model face_landmark_68_model; do \
	  test -f $(FACEAPI)/$$net.safetensors || \
	    bin/import_tfjs $(FACEAPI)/$$net-weights_manifest.json --out $(FACEAPI)/$$net.safetensors || exit 1; \
	done

# The lessons' generated data sets (deterministic; each made once, skipped if present).
GEN = data/generated
SINGLE = --single --min-scale 40 --max-scale 112
generated: build
	@test -f $(GEN)/single/train/annotations.json || \
	  bin/datagen scenes $(SINGLE) --count 12000 --split train --seed 1 --out $(GEN)/single/train
	@test -f $(GEN)/single/test/annotations.json || \
	  bin/datagen scenes $(SINGLE) --count 2000 --split test --seed 2 --out $(GEN)/single/test
	@test -f $(GEN)/scenes/train/annotations.json || \
	  bin/datagen scenes --count 2000 --split train --seed 1 --out $(GEN)/scenes/train
	@test -f $(GEN)/scenes/test/annotations.json || \
	  bin/datagen scenes --count 200 --split test --seed 2 --out $(GEN)/scenes/test
	@test -f $(GEN)/figures/train/annotations.json || \
	  bin/datagen figures --count 8000 --seed 1 --out $(GEN)/figures/train
	@test -f $(GEN)/figures/test/annotations.json || \
	  bin/datagen figures --count 1000 --seed 2 --out $(GEN)/figures/test

# A tour of the lecture in about three minutes on 2 cores (tools/demo.sh): a quick
# classifier, Selective Search on a photo, a quick YOLO on scenes, the detectors' test
# times side by side, and out/demo/index.html linking each result to its lesson.
demo: build data
	tools/demo.sh out/demo

# Reproduces lessons 00-04 (tools/lessons.sh, recipes in lessons/reproduce/): each
# lesson's data, models (kept when present; FORCE=1 retrains), eval/predict/bench, then
# rewrites the lesson's generated tables from their JSON. LESSON=02 (or "00 01") for
# some; MODELS=DIR trains elsewhere than data/models; QUICK=1 checks the recipes with
# tiny settings in minutes, writing out/lessons/quick/ only.
lessons: build data
	LESSONS_COMMAND='make lessons$(if $(LESSON), LESSON=$(if $(word 2,$(LESSON)),"$(LESSON)",$(LESSON)))' \
	  tools/lessons.sh $(LESSON)

# Grades the library against the golden cases in data/golden/ (lessons/00-getting-started.md).
# Builds the library and the programs (the end-to-end cases run them), not the tests.
grade: deps $(BUILD)/CMakeCache.txt data
	cmake --build $(BUILD) -j $(JOBS) --target programs
	bin/grade $(LESSONS)

# After editing an exercise file: rebuilds only the library and bin/grade, then grades
# the unit cases (EXERCISE=box_iou: one exercise; LESSONS=rcnn: some lessons).
grade-quick: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target grade
	bin/grade --unit-only $(if $(EXERCISE),--exercise $(EXERCISE)) $(LESSONS)

# The exercise files with the functions to write blanked, and how to grade them.
STARTER ?= out/starter
starter: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target grade
	bin/grade --starter $(STARTER)

# AddressSanitizer + UndefinedBehaviorSanitizer in their own build directory (programs in
# $(SANITIZE_BUILD)/bin, bin/ untouched): the unit tests that run in seconds, the
# bad-input table, then a few tiny runs of the programs (tools/check/sanitize_runs.sh).
SANITIZE_BUILD ?= build-sanitize
SANITIZE_TESTS ?= tensor|autograd|gemm|conv|pool|spp_pool|nn|losses|safetensors|files|image|\
  boxes|roi_ops|torchvision_boxes|torchvision_roi|torch_golden|coco|coco_eval|voc_ap|\
  eval_metrics|config_fields|proposal_cache|empty_sets|number_flags|bad_inputs
SANITIZE_LIST = $(subst $(subst ,, ),,$(SANITIZE_TESTS))
# Only these tests are built (each depends on every program, which sanitize_runs.sh runs);
# -g1 (line tables) is all a sanitizer report needs and compiles faster than -g.
sanitize: deps data
	cmake -S . -B $(SANITIZE_BUILD) -DDETLAB_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
	cmake --build $(SANITIZE_BUILD) -j $(JOBS) --target $(addprefix test_,$(subst |, ,$(SANITIZE_LIST)))
	cd $(SANITIZE_BUILD) && ctest --output-on-failure --timeout 600 -j $(JOBS) \
	  -R '^test_($(SANITIZE_LIST))$$'
	tools/check/sanitize_runs.sh $(SANITIZE_BUILD)/bin

# libFuzzer harnesses (tests/fuzz/, clang) for the readers of untrusted files, each run
# FUZZ_SECONDS from the committed seeds; findings fail the target (tools/check/run_fuzzers.sh).
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
fuzz:
	@tools/install-deps.sh --fuzz
	cmake -S . -B $(FUZZ_BUILD) -DDETLAB_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	tools/check/run_fuzzers.sh $(FUZZ_BUILD)/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) $(FUZZ_BUILD) bin
