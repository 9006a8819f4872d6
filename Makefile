# Two commands on a fresh Debian 12 machine with Swift installed:
#   make run    the cockpit on the default model
#   make test   the test suite (release build: real-model tests stay quick);
#               make test FILTER=GoldenTests runs the tests whose names match
# Both install what is missing first and are quick when everything is in place.

SWIFT     ?= swift
# One command line for the product and the tests, so that both share .build/release: with
# different flags each command rebuilt the whole package after the other (minutes).
# -enable-testing lets the tests reach internal API. `swift test` adds its own -enable-testing
# in another place of the compiler's command line unless told not to, hence
# --disable-testable-imports (the flag below still enables testing).
SWIFT_FLAGS := -c release -Xswiftc -enable-testing
BIN       := .build/release/ringside
APT_DEPS  := libopenblas-dev libncursesw5-dev pkg-config tmux python3 python3-pip
TEST_MODELS := smollm2-135m-instruct gemma-3-270m
# llama.cpp's vocabulary-only GGUFs with their expected ids (models/ggml-vocab-*) and its
# real-world chat templates, taken from the llama-cpp-python source distribution (pip download,
# once) for the tokenizer tests; nothing of it is committed.
LLAMA_SDIST := llama-cpp-python==0.3.36
LLAMA_CACHE := $(HOME)/.cache/ringside/llama.cpp-0.3.36
# Python modules the server tests drive `ringside serve` with (import name=PyPI name).
PY_TEST_DEPS := openai=openai prometheus_client=prometheus_client
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test deps py-deps build models clean llama-vocab figures

run: build
	@$(BIN) models pull smollm2-135m-instruct >/dev/null
	@$(BIN)

test: build py-deps llama-vocab
	@for m in $(TEST_MODELS); do $(BIN) models pull $$m >/dev/null || exit 1; done
	$(SWIFT) test $(SWIFT_FLAGS) --disable-testable-imports $(if $(FILTER),--filter '$(FILTER)')

build: deps
	$(SWIFT) build $(SWIFT_FLAGS) --product ringside

# Debian packages the build and the tests need, installed only when missing.
deps:
	@missing=""; for p in $(APT_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

# Installed only when missing, for the user running the tests.
py-deps:
	@missing=""; for d in $(PY_TEST_DEPS); do python3 -c "import $${d%%=*}" 2>/dev/null || missing="$$missing $${d#*=}"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing (pip):$$missing"; \
		python3 -m pip install --user -q $$missing || python3 -m pip install --user -q --break-system-packages $$missing; \
	fi

llama-vocab:
	@if [ ! -f $(LLAMA_CACHE)/.complete ]; then \
		echo "fetching llama.cpp's vocabulary test files ($(LLAMA_SDIST) source distribution)"; \
		tmp=$$(mktemp -d) && \
		python3 -m pip download --no-deps --no-binary llama-cpp-python --disable-pip-version-check -q -d $$tmp $(LLAMA_SDIST) && \
		mkdir -p $(LLAMA_CACHE) && \
		tar -xzf $$tmp/llama_cpp_python-*.tar.gz -C $$tmp --wildcards '*/vendor/llama.cpp/models/ggml-vocab-*' '*/vendor/llama.cpp/models/templates/*' && \
		rm -rf $(LLAMA_CACHE)/models && mv $$tmp/llama_cpp_python-*/vendor/llama.cpp/models $(LLAMA_CACHE)/models && \
		touch $(LLAMA_CACHE)/.complete && rm -rf $$tmp || { rm -rf $$tmp; exit 1; }; \
	fi

# Ringside against llama.cpp on this machine (tools/llama-cpp/figures.sh: builds llama.cpp from
# the same source distribution once, about 10 minutes); ROUNDS=3 alternates three rounds.
figures: build
	@tools/llama-cpp/figures.sh $(or $(ROUNDS),1)

clean:
	rm -rf .build
