# wormvault build. Two commands matter: `make run` and `make test`.
# Every tool is pinned in tools/go.mod and built from the Go module proxy
# into bin/tools; nothing is assumed to be installed but Go (and, for the
# Python and TypeScript SDKs, Debian's apt and Node with npm: see sdk-deps).

GO        ?= go
TOOLS     := $(CURDIR)/bin/tools
BUF       := $(TOOLS)/buf
GRPCURL   := $(TOOLS)/grpcurl
TOOLSTAMP := $(TOOLS)/.stamp
export PATH := $(TOOLS):$(PATH)

.PHONY: run build test proto check-generated lint vet fmt-check gotest bench tools clean
.PHONY: sdk-deps sdk-debs

# run serves gRPC on 127.0.0.1:7420 and, for browsers and curl, gRPC-Web,
# Connect, REST/JSON and the console (/console/) on 127.0.0.1:7421.
run:
	$(GO) run ./cmd/wormvault serve --http-listen 127.0.0.1:7421

build:
	$(GO) build -o bin/wormvault ./cmd/wormvault

# tools: buf, protoc-gen-go, protoc-gen-go-grpc and grpcurl at the versions
# tools/go.mod pins. The first build of buf takes minutes; later ones are
# cached.
tools: $(TOOLSTAMP)
$(TOOLSTAMP): tools/go.mod tools/go.sum
	mkdir -p $(TOOLS)
	cd tools && GOBIN=$(TOOLS) $(GO) install tool
	touch $@

# sdk-deps: what the Python and TypeScript SDKs are generated and tested
# with. Python's come from Debian 12, a matching set: protoc and
# python3-protobuf 3.21.x (its module says 4.21.x: Python's numbering of
# protobuf 21), grpc_python_plugin and python3-grpcio 1.51.x
# (Debian's python3-grpc-tools is far older: not used). They are installed
# only when missing, so a machine that has them needs neither root nor
# network; their versions are checked either way. TypeScript's generator and
# runtime are pinned in clients/typescript/package-lock.json.
SDK_DEBS    := protobuf-compiler protobuf-compiler-grpc python3-grpcio python3-protobuf
SDK_DEB_PIN := 'protobuf-compiler=3.21.*' 'protobuf-compiler-grpc=1.51.*' 'python3-grpcio=1.51.*' 'python3-protobuf=3.21.*'
APT_INSTALL := env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends
SDK_PYTHON  := /usr/bin/python3
NPMSTAMP    := clients/typescript/node_modules/.stamp

sdk-deps: sdk-debs $(NPMSTAMP)

sdk-debs:
	@dpkg -s $(SDK_DEBS) >/dev/null 2>&1 || { \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo $(APT_INSTALL) $(SDK_DEB_PIN) || { $$sudo apt-get update && $$sudo $(APT_INSTALL) $(SDK_DEB_PIN); }; }
	@/usr/bin/protoc --version | grep -q '^libprotoc 3\.21\.' || \
	  { echo "need protoc 3.21.x (Debian 12's protobuf-compiler), got: $$(/usr/bin/protoc --version)" >&2; exit 1; }
	@$(SDK_PYTHON) -c 'import sys, grpc, google.protobuf as pb; \
	  ok = grpc.__version__.startswith("1.51.") and pb.__version__.startswith("4.21."); \
	  sys.exit(0 if ok else f"need python3-grpcio 1.51.x and python3-protobuf 3.21.x (module 4.21.x), got {grpc.__version__} and {pb.__version__}")'

$(NPMSTAMP): clients/typescript/package.json clients/typescript/package-lock.json
	cd clients/typescript && npm ci --no-audit --no-fund
	touch $@

# web-deps: what the console (clients/web) is built and browser-tested
# with: Debian's chromium, installed only when missing (as sdk-debs does;
# Playwright's own browser downloads are not used), and the npm packages
# pinned in clients/web/package-lock.json (Vite, TypeScript, playwright-core,
# the Connect runtime).
WEBSTAMP := clients/web/node_modules/.stamp
.PHONY: web web-deps web-debs check-web
web-deps: web-debs $(WEBSTAMP)

web-debs:
	@dpkg -s chromium >/dev/null 2>&1 || { \
	  sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  $$sudo $(APT_INSTALL) chromium || { $$sudo apt-get update && $$sudo $(APT_INSTALL) chromium; }; }

$(WEBSTAMP): clients/web/package.json clients/web/package-lock.json
	cd clients/web && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# web builds the console into clients/web/dist, which is committed: the
# server embeds it (go:embed), so building or running wormvault needs no
# Node. check-web fails when the committed dist is not what a fresh build
# of the sources makes (the Vite build is deterministic: same sources, same
# bytes).
web: $(WEBSTAMP)
	cd clients/web && npm run build

check-web: web
	@git diff --exit-code --stat -- clients/web/dist || (echo "the console's dist is stale: run 'make web' and commit" >&2; exit 1)
	@untracked=$$(git ls-files --others --exclude-standard -- clients/web/dist); \
	 if [ -n "$$untracked" ]; then echo "untracked console build files: $$untracked" >&2; exit 1; fi

# googleapis: google/api/annotations.proto and http.proto, the REST
# mappings' vocabulary, from npm's google-proto-files at the version pinned
# in third_party/googleapis/package-lock.json (no scripts run); buf.yaml
# reads them from its node_modules as a module of their own.
GOOGLEAPIS := third_party/googleapis/node_modules/.stamp
$(GOOGLEAPIS): third_party/googleapis/package.json third_party/googleapis/package-lock.json
	cd third_party/googleapis && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# proto generates Go (proto/), Python (clients/python/gen) and TypeScript
# (clients/typescript/gen); see buf.gen.yaml.
proto: $(TOOLSTAMP) $(GOOGLEAPIS) sdk-deps
	$(BUF) generate

# check-generated regenerates the code and fails if that changed anything:
# the committed code must be exactly what the pinned generators produce.
GENERATED := proto clients/python/gen clients/typescript/gen
check-generated: proto
	@git diff --exit-code --stat -- $(GENERATED) || (echo "generated code is stale: run 'make proto' and commit" >&2; exit 1)
	@untracked=$$(git ls-files --others --exclude-standard -- $(GENERATED)); \
	 if [ -n "$$untracked" ]; then echo "untracked generated files: $$untracked" >&2; exit 1; fi

lint: $(TOOLSTAMP) $(GOOGLEAPIS)
	$(BUF) lint

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	 if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

gotest: $(TOOLSTAMP) sdk-deps web-deps
	$(GO) test -race -timeout 20m ./...

# fuzz runs every fuzz target, one after another (go test -fuzz takes one
# target per invocation), each for its time: FUZZTIME for the decoders and
# validators that face hostile input, FUZZTIME_EXTRA for the record
# decoders fuzzed besides. The list below is the one place targets are
# named: package:Target:time. New interesting inputs go to $GOCACHE/fuzz;
# only a failing input is written to the package's testdata/fuzz, where it
# shows up in `git status` and then runs as a regular test. Minimizing is
# capped (FUZZMINIMIZE calls) so new coverage does not stall a short run.
FUZZTIME       ?= 30s
FUZZTIME_EXTRA ?= 10s
FUZZMINIMIZE   ?= 1000x
FUZZ_TARGETS = \
	./lock/policy:FuzzParse:$(FUZZTIME) \
	./lock/policy:FuzzCondition:$(FUZZTIME) \
	./server:FuzzUploadFraming:$(FUZZTIME) \
	./erasure:FuzzShardTrailer:$(FUZZTIME) \
	./erasure:FuzzShardFile:$(FUZZTIME) \
	./vault/sse:FuzzReader:$(FUZZTIME) \
	./vault/sse:FuzzReaderTampered:$(FUZZTIME) \
	.:FuzzValidateNames:$(FUZZTIME) \
	./vault/audit:FuzzVerifyChain:$(FUZZTIME) \
	./vault/audit:FuzzDecodeEvent:$(FUZZTIME_EXTRA) \
	./vault/catalog:FuzzVersionRecord:$(FUZZTIME_EXTRA) \
	./vault/journal:FuzzDecodeEntry:$(FUZZTIME_EXTRA) \
	./vault/journal:FuzzSegment:$(FUZZTIME_EXTRA) \
	./receipt:FuzzParse:$(FUZZTIME_EXTRA)
.PHONY: fuzz
# FUZZJOBS targets run at once, each with one fuzzing worker (-parallel 1):
# every target still gets its full time, and on two cores the whole list
# takes half as long as one after another.
FUZZJOBS ?= 2
fuzz:
	@printf '%s\n' $(FUZZ_TARGETS) | xargs -P $(FUZZJOBS) -I{} sh -c '\
	  t={}; pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; time=$${rest#*:}; \
	  out=$$(mktemp); echo "fuzz $$name ($$pkg) for $$time"; \
	  if $(GO) test -run "^\$$" -fuzz "^$$name\$$" -fuzztime $$time -fuzzminimizetime $(FUZZMINIMIZE) -parallel 1 $$pkg >$$out 2>&1; then \
	    tail -n 3 $$out; rm -f $$out; exit 0; fi; \
	  cat $$out; \
	  if grep -q "context deadline exceeded" $$out && ! grep -q "Failing input written" $$out; then \
	    echo "fuzz $$name: the fuzz time ran out while the engine was busy (go test reports it as a failure; no failing input): not a crash"; \
	    rm -f $$out; exit 0; fi; \
	  rm -f $$out; echo "fuzz target failed: $$name ($$pkg)" >&2; exit 1' \
	  || { echo "fuzz: some targets failed (see above)" >&2; exit 1; }

test: check-generated check-web lint fmt-check vet gotest fuzz

bench: $(TOOLSTAMP)
	$(GO) run ./internal/benchreport

# soak: SOAK_CLIENTS clients for SOAK_DURATION against a real server with
# erasure and encryption, faults injected (drive unwritable, removed, full;
# SIGKILL and restart), every acknowledged upload read back at the end. Not
# part of `make test`, which runs a 20 s variant (internal/soak's
# TestSoakShort). SOAK_FAULTS adds flags, e.g. SOAK_FAULTS=--fault-kill9=off;
# the ENOSPC fault needs root (it mounts a tmpfs).
SOAK_CLIENTS  ?= 32
SOAK_DURATION ?= 120s
SOAK_FAULTS   ?=
.PHONY: soak
soak:
	$(GO) run ./internal/soak/cmd/soak -clients $(SOAK_CLIENTS) -duration $(SOAK_DURATION) $(SOAK_FAULTS)

# crash: the crash-consistency harness (internal/crashtest) with CRASH_RUNS
# runs per crash point: each kills the server with SIGKILL at a random hit
# of the point during a random workload, restarts it and checks the
# invariants (`make test` runs 2 per point). The seed is printed;
# CRASH_SEED=N CRASH_RUNS=1 CRASH_POINTS=NAME replays one run's choices.
CRASH_RUNS   ?= 20
CRASH_SEED   ?=
CRASH_POINTS ?=
.PHONY: crash
crash:
	WORMVAULT_CRASH_RUNS=$(CRASH_RUNS) WORMVAULT_CRASH_SEED=$(CRASH_SEED) WORMVAULT_CRASH_POINTS=$(CRASH_POINTS) \
	  $(GO) test -count=1 -timeout 30m -v -run 'TestCrash' ./internal/crashtest

clean:
	rm -rf bin
