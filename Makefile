# wormvault build. Two commands matter: `make run` and `make test`.
# Every tool is pinned in tools/go.mod and built from the Go module proxy
# into bin/tools; nothing is assumed to be installed but Go.

GO        ?= go
TOOLS     := $(CURDIR)/bin/tools
BUF       := $(TOOLS)/buf
GRPCURL   := $(TOOLS)/grpcurl
TOOLSTAMP := $(TOOLS)/.stamp
export PATH := $(TOOLS):$(PATH)

.PHONY: run build test proto check-generated lint vet fmt-check gotest bench tools clean

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

proto: $(TOOLSTAMP)
	$(BUF) generate

# check-generated regenerates the code and fails if that changed anything:
# the committed code must be exactly what the pinned generators produce.
check-generated: proto
	@git diff --exit-code --stat -- proto || (echo "generated code is stale: run 'make proto' and commit" >&2; exit 1)
	@untracked=$$(git ls-files --others --exclude-standard -- proto); \
	 if [ -n "$$untracked" ]; then echo "untracked generated files: $$untracked" >&2; exit 1; fi

lint: $(TOOLSTAMP)
	$(BUF) lint

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	 if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

gotest: $(TOOLSTAMP)
	$(GO) test -race -timeout 20m ./...

test: check-generated lint fmt-check vet gotest

bench: $(TOOLSTAMP)
	$(GO) run ./internal/benchreport

clean:
	rm -rf bin
