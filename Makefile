# lakepipe: `make` builds consume/consume, transform/transform and
# deliver/deliver; `make check` runs every test, plainly built and again
# built with AddressSanitizer and UndefinedBehaviorSanitizer; `make demo`
# replays the bundled sample into ./lake/.  See README.md.

PREFIX	?= /usr/local
MANDIR	?= $(PREFIX)/share/man
CC	?= cc
CFLAGS	?= -O2 -g
# Objects and programs go under $(B); the sanitizer build uses build/san.
B	?= .

ifeq ($(SANITIZE),1)
B	= build/san
CFLAGS	= -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	  -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif

# ThreadSanitizer (SANITIZE=thread): transform alone, the one program
# with threads, in build/tsan; t2050 runs it when it is there.
ifeq ($(SANITIZE),thread)
B	= build/tsan
CFLAGS	= -O1 -g -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=thread
endif

# The libFuzzer build (make fuzz): clang, its own objects in build/fuzz.
FUZZ_CC	?= clang
ifeq ($(FUZZ),1)
B	= build/fuzz
CC	= $(FUZZ_CC)
CFLAGS	= -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	  -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif

WARNINGS = -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
	   -Wmissing-prototypes -Wno-unused-parameter \
	   -Wno-format-zero-length
ALL_CPPFLAGS = -D_GNU_SOURCE -Icommon $(shell pkg-config --cflags libbsd-overlay) \
	   $(CPPFLAGS)
ALL_CFLAGS = -std=c11 $(WARNINGS) $(CFLAGS)
BSD_LIBS = $(shell pkg-config --libs libbsd-overlay)

# Each program's own libraries beyond the common ones.
CONSUME_LIBS	= -lssl -lcrypto -lcurl -lz -llz4 -lzstd -lsnappy -lisal
TRANSFORM_LIBS	= -lisal -lz -lzstd -lsnappy -pthread
DELIVER_LIBS	= -lcurl -lssl -lcrypto -lisal -lz

COMMON_SRCS	= $(wildcard common/*.c)
CONSUME_SRCS	= $(wildcard consume/*.c)
TRANSFORM_SRCS	= $(wildcard transform/*.c)
DELIVER_SRCS	= $(wildcard deliver/*.c)
UNIT_SRCS	= $(wildcard tests/unit/test-*.c)
FUZZ_SRCS	= $(wildcard fuzz/fuzz-*.c)
FUZZ_TARGETS	= $(patsubst fuzz/fuzz-%.c,%,$(FUZZ_SRCS))
# What harnesses link besides program objects (the oracles of fuzz-*diff).
FUZZ_HELPERS	= $(wildcard fuzz/oracle-*.c)

obj = $(patsubst %.c,$(B)/%.o,$(1))

LIB		= $(B)/common/liblakepipe.a
PROGRAMS	= $(B)/consume/consume $(B)/transform/transform $(B)/deliver/deliver
UNIT_TESTS	= $(patsubst %.c,$(B)/%,$(UNIT_SRCS))
# Each fuzz harness without libFuzzer, for tests/t0002 (every build).
FUZZ_REGRESS	= $(patsubst %,$(B)/fuzz/regress-%,$(FUZZ_TARGETS))
# Man pages installed as they are; the programs' own (PROG/PROG.1) go in
# as lakepipe-PROG.1, beside the programs' installed names.
MAN1		= doc/lakepipe.1
MAN5		= doc/lakepipe-frames.5 doc/lakepipe-rule.5
MAN7		= doc/lakepipe-metrics.7

all: $(PROGRAMS) $(UNIT_TESTS) $(FUZZ_REGRESS)

ifneq ($(V),1)
Q	= @
QCC	= @echo "  CC      $@";
QLD	= @echo "  LD      $@";
endif

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(QCC)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(call obj,$(COMMON_SRCS))
	@mkdir -p $(@D)
	$(QLD)rm -f $@ && $(AR) rcs $@ $^

$(B)/consume/consume: $(call obj,$(CONSUME_SRCS)) $(LIB)
	$(QLD)$(CC) $(LDFLAGS) -o $@ $^ $(CONSUME_LIBS) $(BSD_LIBS) -lm

$(B)/transform/transform: $(call obj,$(TRANSFORM_SRCS)) $(LIB)
	$(QLD)$(CC) $(LDFLAGS) -o $@ $^ $(TRANSFORM_LIBS) $(BSD_LIBS) -lm

$(B)/deliver/deliver: $(call obj,$(DELIVER_SRCS)) $(LIB)
	$(QLD)$(CC) $(LDFLAGS) -o $@ $^ $(DELIVER_LIBS) $(BSD_LIBS) -lm

# Unit tests link the common library, plus the object files of the
# program whose internals they test (named in the test's first line:
# "/* unit: transform/record.c transform/key.c */").
$(B)/tests/unit/%: tests/unit/%.c $(LIB) $(call obj,$(CONSUME_SRCS) $(TRANSFORM_SRCS) $(DELIVER_SRCS))
	@mkdir -p $(@D)
	$(QLD)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< \
	    $(call obj,$(shell sed -n '1s|^/\* unit: \(.*\) \*/|\1|p' $<)) \
	    $(LIB) $(CONSUME_LIBS) $(TRANSFORM_LIBS) $(DELIVER_LIBS) $(BSD_LIBS) -lm

# Fuzz harnesses (fuzz/fuzz-TARGET.c, see fuzz/fuzz.h) name the program
# objects they link in their first line, as unit tests do.
FUZZ_OBJS = $(call obj,$(shell sed -n '1s|^/\* unit: \(.*\) \*/|\1|p' $(1)))
ALL_LIBS = $(LIB) $(CONSUME_LIBS) $(TRANSFORM_LIBS) $(DELIVER_LIBS) \
	   $(BSD_LIBS) -lm

# Kept: make would remove them as intermediate files, and relink.
.SECONDARY: $(call obj,$(FUZZ_SRCS) $(FUZZ_HELPERS) fuzz/regress-main.c)
.SECONDEXPANSION:
$(B)/fuzz/regress-%: $(B)/fuzz/fuzz-%.o $(B)/fuzz/regress-main.o $(LIB) \
    $$(call FUZZ_OBJS,fuzz/fuzz-%.c)
	$(QLD)$(CC) $(LDFLAGS) -o $@ $< $(B)/fuzz/regress-main.o \
	    $(call FUZZ_OBJS,fuzz/fuzz-$*.c) $(ALL_LIBS)

$(B)/fuzz/fuzz-%: $(B)/fuzz/fuzz-%.o $(LIB) $$(call FUZZ_OBJS,fuzz/fuzz-%.c)
	$(QLD)$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< \
	    $(call FUZZ_OBJS,fuzz/fuzz-$*.c) $(ALL_LIBS)

-include $(patsubst %.c,$(B)/%.d,$(COMMON_SRCS) $(CONSUME_SRCS) $(TRANSFORM_SRCS) $(DELIVER_SRCS) $(FUZZ_SRCS) $(FUZZ_HELPERS) fuzz/regress-main.c)

# The suite, against the plain build only.
test: all
	tests/run --build $(B)

# Everything CI runs: the suite on the plain build and on the sanitizer
# build (with a ThreadSanitizer transform for t2050), one closing
# "N passed, N failed" line for both.
check:
	$(MAKE) all
	$(MAKE) SANITIZE=1 all
	$(MAKE) SANITIZE=thread build/tsan/transform/transform
	tests/run --build . --build build/san

# Every fuzz target for FUZZ_SECONDS each (one at a time, niced), on
# its corpus (fuzz/corpus/TARGET, new inputs kept in build/fuzz/corpus);
# fails on the first crash, leaving it in build/fuzz/crash-TARGET-*.
FUZZ_SECONDS	?= 60
fuzz:
	$(MAKE) FUZZ=1 $(patsubst %,build/fuzz/fuzz/fuzz-%,$(FUZZ_TARGETS))
	fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

demo: all
	./pipeline.sh --lines sample/messages.jsonl -- --max-messages 500 -- \
	    file://$(CURDIR)/lake/
	@echo "--- what landed in ./lake/ (objects, records):"
	@find lake -type f -name '*.gz' | sort | while read -r f; do \
		printf '%s\t%s records\n' "$$f" "$$(zcat "$$f" | wc -l)"; done
	@echo "--- its first record:"
	@f=$$(find lake -type f -name '*.gz' | sort | head -1); \
		zcat "$$f" | sed -n 1p

bench: all
	bench/bench.sh

# The long chaos runs (tests/soak/chaos.sh): 100,000 messages, 24 kill -9
# cycles each; SOAK_MESSAGES, SOAK_CYCLES, CHAOS_SEED change them.
soak: all
	tests/soak/chaos.sh --build $(B)

# Installed git-style: the programs as lakepipe-consume, lakepipe-transform
# and lakepipe-deliver (no clash with other programs of those names),
# pipeline.sh as lakepipe, which finds them beside itself and its parts
# (lib/lakepipe/*.sh) in ../lib/lakepipe; the systemd unit
# with this BINDIR and SYSCONFDIR in it; the example rule and alert rules.
BINDIR		?= $(PREFIX)/bin
UNITDIR		?= $(PREFIX)/lib/systemd/system
DOCDIR		?= $(PREFIX)/share/doc/lakepipe
SYSCONFDIR	?= /etc
SHLIBDIR	= $(BINDIR)/../lib/lakepipe

install: $(PROGRAMS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SHLIBDIR)
	install -d -m 750 $(DESTDIR)$(SYSCONFDIR)/lakepipe
	for p in consume transform deliver; do \
		install -m 755 $(B)/$$p/$$p $(DESTDIR)$(BINDIR)/lakepipe-$$p && \
		install -m 644 $$p/$$p.1 \
		    $(DESTDIR)$(MANDIR)/man1/lakepipe-$$p.1 || exit 1; \
	done
	install -m 755 pipeline.sh $(DESTDIR)$(BINDIR)/lakepipe
	install -m 644 lib/lakepipe/*.sh $(DESTDIR)$(SHLIBDIR)/
	install -m 644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 644 $(MAN7) $(DESTDIR)$(MANDIR)/man7/
	sed -e 's|/usr/local/bin/|$(BINDIR)/|' \
	    -e 's|/etc/lakepipe/|$(SYSCONFDIR)/lakepipe/|g' \
	    dist/lakepipe@.service >'$(DESTDIR)$(UNITDIR)/lakepipe@.service'
	install -m 644 sample/tdmq-backup.rule dist/lakepipe-alerts.yml \
	    $(DESTDIR)$(DOCDIR)/

clean:
	rm -rf build tests/trash.* bench/out
	rm -f common/*.[oad] consume/*.[od] transform/*.[od] deliver/*.[od] \
	    fuzz/*.[od] $(PROGRAMS) $(patsubst %.c,%,$(UNIT_SRCS)) \
	    $(patsubst %,fuzz/regress-%,$(FUZZ_TARGETS))

.PHONY: all test check fuzz demo bench soak install clean
