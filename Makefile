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

run:
	$(GO) run ./cmd/wormvault serve

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

# proto generates Go (proto/), Python (clients/python/gen) and TypeScript
# (clients/typescript/gen); see buf.gen.yaml.
proto: $(TOOLSTAMP) sdk-deps
	$(BUF) generate

# check-generated regenerates the code and fails if that changed anything:
# the committed code must be exactly what the pinned generators produce.
GENERATED := proto clients/python/gen clients/typescript/gen
check-generated: proto
	@git diff --exit-code --stat -- $(GENERATED) || (echo "generated code is stale: run 'make proto' and commit" >&2; exit 1)
	@untracked=$$(git ls-files --others --exclude-standard -- $(GENERATED)); \
	 if [ -n "$$untracked" ]; then echo "untracked generated files: $$untracked" >&2; exit 1; fi

lint: $(TOOLSTAMP)
	$(BUF) lint

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	 if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

gotest: $(TOOLSTAMP) sdk-deps
	$(GO) test -race -timeout 20m ./...

test: check-generated lint fmt-check vet gotest

bench: $(TOOLSTAMP)
	$(GO) run ./internal/benchreport

clean:
	rm -rf bin
