/* Make this process, and every process it starts, see an AVX2-only x86-64 CPU (issue 21).
 * Built and preloaded by tools/avx2_only.py; read that file's docstring first.
 *
 * A preloaded library (LD_PRELOAD) turns on CPUID faulting (Linux's arch_prctl(ARCH_SET_CPUID, 0),
 * flag cpuid_fault in /proc/cpuinfo), so that every CPUID instruction traps with SIGSEGV. Its
 * handler executes the instruction with faulting briefly off, clears the AVX-512 feature bits
 * (and the AVX-512 state components of leaf 0xD) and returns to the next instruction. Libraries
 * that choose their kernels by CPUID then choose their AVX2 ones: TensorFlow (which then leaves
 * oneDNN off by default), oneDNN, XLA's code generator, OpenBLAS, NumPy.
 *
 * Other SIGSEGV handlers (Python's faulthandler, say) are kept behind this one: sigaction() is
 * interposed so that a handler installed later is called for every fault that is not a CPUID.
 * MUSICLIB_AVX2_ONLY_REPORT=1 prints the number of CPUIDs emulated when the process exits.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/* The AVX-512 feature bits of CPUID (Intel SDM vol. 2A, CPUID; AMD APM vol. 3, appendix E). */
/* Leaf 7, subleaf 0, EBX: AVX512 F, DQ, IFMA, PF, ER, CD, BW, VL. */
#define LEAF7_EBX_AVX512 ((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | (1u << 28) | \
                          (1u << 30) | (1u << 31))
/* Leaf 7, subleaf 0, ECX: AVX512 VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ. */
#define LEAF7_ECX_AVX512 ((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14))
/* Leaf 7, subleaf 0, EDX: AVX512 4VNNIW, 4FMAPS, VP2INTERSECT, FP16. */
#define LEAF7_EDX_AVX512 ((1u << 2) | (1u << 3) | (1u << 8) | (1u << 23))
/* Leaf 7, subleaf 1, EAX: AVX512 BF16. */
#define LEAF7_1_EAX_AVX512 (1u << 5)
/* Leaf 0xD, subleaf 0, EAX: the XSAVE state components opmask, ZMM_Hi256 and Hi16_ZMM. */
#define XSAVE_AVX512_STATE (0x7u << 5)

static struct sigaction later_handler;          /* a SIGSEGV handler installed after ours */
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
static unsigned long emulated;

static void set_cpuid_faulting(int on) { syscall(SYS_arch_prctl, ARCH_SET_CPUID, on ? 0 : 1); }

static void masked_cpuid(unsigned leaf, unsigned subleaf, unsigned r[4]) {
    __cpuid_count(leaf, subleaf, r[0], r[1], r[2], r[3]);
    if (leaf == 7 && subleaf == 0) {
        r[1] &= ~LEAF7_EBX_AVX512; r[2] &= ~LEAF7_ECX_AVX512; r[3] &= ~LEAF7_EDX_AVX512;
    } else if (leaf == 7 && subleaf == 1) {
        r[0] &= ~LEAF7_1_EAX_AVX512;
    } else if (leaf == 0xD && subleaf == 0) {
        r[0] &= ~XSAVE_AVX512_STATE;
    } else if (leaf == 0xD && subleaf >= 5 && subleaf <= 7) {
        r[0] = r[1] = r[2] = r[3] = 0;
    }
}

static void on_segv(int signal_number, siginfo_t *info, void *context) {
    ucontext_t *uc = context;
    greg_t *registers = uc->uc_mcontext.gregs;
    const unsigned char *instruction = (const unsigned char *)registers[REG_RIP];
    /* CPUID (0F A2) under faulting raises #GP: si_code SI_KERNEL, and the instruction is readable. */
    if (info->si_code == SI_KERNEL && instruction[0] == 0x0f && instruction[1] == 0xa2) {
        unsigned r[4];
        set_cpuid_faulting(0);
        masked_cpuid((unsigned)registers[REG_RAX], (unsigned)registers[REG_RCX], r);
        set_cpuid_faulting(1);
        registers[REG_RAX] = r[0]; registers[REG_RBX] = r[1];
        registers[REG_RCX] = r[2]; registers[REG_RDX] = r[3];
        registers[REG_RIP] += 2;
        __atomic_fetch_add(&emulated, 1, __ATOMIC_RELAXED);
        return;
    }
    if (later_handler.sa_flags & SA_SIGINFO) {
        later_handler.sa_sigaction(signal_number, info, context);
    } else if (later_handler.sa_handler != SIG_DFL && later_handler.sa_handler != SIG_IGN) {
        later_handler.sa_handler(signal_number);
    } else {  /* a real fault: die of it, as without this library */
        struct sigaction default_action = {.sa_handler = SIG_DFL};
        real_sigaction(SIGSEGV, &default_action, NULL);
    }
}

static void find_real_sigaction(void) {
    if (!real_sigaction)
        real_sigaction = (int (*)(int, const struct sigaction *, struct sigaction *))dlsym(RTLD_NEXT, "sigaction");
}

/* Every process's sigaction(): SIGSEGV's handler is recorded as the one to fall back on, ours stays. */
int sigaction(int signal_number, const struct sigaction *action, struct sigaction *previous) {
    find_real_sigaction();
    if (signal_number != SIGSEGV)
        return real_sigaction(signal_number, action, previous);
    if (previous) *previous = later_handler;
    if (action) later_handler = *action;
    return 0;
}

static void report(void) {
    if (getenv("MUSICLIB_AVX2_ONLY_REPORT"))
        fprintf(stderr, "avx2_only: %lu CPUID instructions emulated in process %d\n", emulated, getpid());
}

__attribute__((constructor)) static void start(void) {
    find_real_sigaction();
    /* SA_ONSTACK: where a thread has an alternate signal stack (faulthandler's), a stack overflow
       still reaches it. */
    struct sigaction ours = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    sigemptyset(&ours.sa_mask);
    if (real_sigaction(SIGSEGV, &ours, NULL) != 0 || syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
        fprintf(stderr, "avx2_only: this CPU or kernel cannot fault on CPUID (no cpuid_fault)\n");
        _exit(70);
    }
    atexit(report);
}
