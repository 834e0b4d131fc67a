// The zod@4 schema of a spec file (docs/spec-language.md is the prose version of it).
// Objects are strict so a typo is refused instead of silently ignored; names that form a
// closed set (registers, errno, signals, flags, ABIs) are enums so editors complete them
// through specs/schema.json. Symbols that depend on context (syscall names per ABI, tags
// from specs/tags.yaml, `$symbols`, input-value syntax) are checked by load.ts.
// YAML integers arrive as bigint (yaml `intAsBigInt: true`) so 64-bit values stay exact.

import { z } from 'zod';
import { ABIS, ERRNO, SIGNALS, SI_CODES, FLAG_NAMES, SETTABLE_FLAGS } from '../../abi/constants.js';
import { DATA_SEGS, ENTRIES, REG_NAMES, REG32_ALIASES } from '../contracts.js';
import { CATALOGUE_IDS } from './catalogue.js';
import { BeforeListSchema } from './before.js';
import { auxvSchema, mapsSchema } from './maps.js';

type NonEmpty = [string, ...string[]];
const names = (o: object): NonEmpty => Object.keys(o) as NonEmpty;

/** `{placeholder}`: a value that `vary` fills in. */
export const PLACEHOLDER_RE = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const Placeholder = z.string().regex(PLACEHOLDER_RE, 'a {placeholder} filled by vary');
/** A closed-set name, or a placeholder that vary fills in. */
const nameOr = (values: readonly string[]) =>
  z.union([z.enum(values as NonEmpty), Placeholder]);

/** An integer (decimal, 0x hex, negative) or an integer written as a string ("0x5a5a_0000"). */
export const IntLike = z.union([z.bigint(), z.string()]);
/** An input value: integer, or a symbolic string (buf:NAME+8, fd:null, pid, unmapped, ...). */
export const Value = z.union([z.bigint(), z.string()]);

export const ABI_ENUM = z.enum(ABIS);
const AbiList = z.union([z.array(nameOr(ABIS)).min(1), nameOr(ABIS)]);

/** Register names a spec may write: 64-bit names and 32-bit aliases. */
export const GPR_KEYS = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
  'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp',
] as const;
export const ALL_REG_KEYS: string[] = [...REG_NAMES, ...Object.keys(REG32_ALIASES)];
const regShape = <T extends z.ZodType>(keys: readonly string[], t: T) =>
  Object.fromEntries(keys.map((k) => [k, t.optional()])) as Record<string, z.ZodOptional<T>>;

/** Selectors a case may load after its call (Case.segs) and peek through (Case.peek). */
export const DATA_SEG_KEYS = DATA_SEGS;

// ---- requirements ------------------------------------------------------------------

/** Target capabilities a spec may require (Profile.features). */
export const FEATURES = [
  'seccomp', 'ptrace', 'fsgsbase', 'la57', 'rdpid', 'sysenter32', 'syscall32', 'umip',
  'pku', 'shstk', 'user_notif', 'sysemu', 'get_syscall_info', 'ftrace',
] as const;
export const VSYSCALL_MODES = ['emulate', 'xonly', 'none'] as const;

export const RequiresSchema = z.strictObject({
  kernel: z.string().optional(),
  vendor: z.enum(['intel', 'amd']).optional(),
  ia32: z.boolean().optional(),
  x32: z.boolean().optional(),
  vsyscall: z.union([z.array(z.enum(VSYSCALL_MODES)).min(1), z.enum(VSYSCALL_MODES)]).optional(),
  fred: z.boolean().optional(),
  features: z.array(z.enum(FEATURES)).optional(),
  destructive: z.boolean().optional(),
});

// ---- case inputs -------------------------------------------------------------------

const RegsMap = z.strictObject({ sentinel: z.boolean().optional(), ...regShape(GPR_KEYS, Value) });
const RegsSchema = z.union([z.literal('sentinel'), RegsMap]);

export const MemRegionSchema = z.strictObject({
  size: IntLike.optional(),
  text: z.string().optional(),
  hex: z.string().optional(),
  fill: IntLike.optional(),
  prot: z.enum(['rw', 'r', 'none']).optional(),
  place: z.enum(['anywhere', 'low32', 'end_of_page']).optional(),
  at: IntLike.optional(),
  readback: z.boolean().optional(),
});

export const FdSchema = z.strictObject({
  file: z.string().optional(),
  file_hex: z.string().optional(),
  pipe: z.string().optional(),
  closed: z.literal(true).optional(),
});

const LocalName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a name of letters, digits and _');
const SignalNameOr = nameOr(names(SIGNALS));
export const SIGNAL_ACTIONS = ['default', 'ignore', 'record'] as const;
const SignalAction = nameOr(SIGNAL_ACTIONS);
/** A case's disposition for one signal: the action alone, or `{action, restart}` where
 *  `restart: true` installs it with SA_RESTART (arch/x86/kernel/signal.c handle_signal). */
// `action` is checked by the refinement rather than as a required key: a missing name inside
// the name-or-placeholder union would otherwise read as 'unknown value "undefined"'.
const SignalSetupSchema = z.union([
  SignalAction,
  z.strictObject({ action: SignalAction.optional(), restart: z.union([z.boolean(), Placeholder]).optional() })
    .refine((o) => o.action !== undefined, { message: 'missing required key "action" (default, ignore or record)', path: ['action'] }),
]);

// ---- seccomp and ptrace set-up (issue 7) ---------------------------------------------

/** A seccomp rule of the rule-list form (harness/seccomp/rules.ts compiles it). */
const RuleScalar = z.union([z.bigint(), z.string()]);
const ArgCmpSchema = z.strictObject({
  eq: RuleScalar.optional(), ne: RuleScalar.optional(), lt: RuleScalar.optional(), le: RuleScalar.optional(),
  gt: RuleScalar.optional(), ge: RuleScalar.optional(),
  masked_eq: z.tuple([RuleScalar, RuleScalar]).optional(), set: RuleScalar.optional(),
});
export const SeccompRuleSchema = z.strictObject({
  syscall: z.union([RuleScalar, z.array(RuleScalar).min(1)]).optional(),
  arch: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  args: z.record(z.string(), z.union([ArgCmpSchema, z.array(ArgCmpSchema).min(1)])).optional(),
  action: RuleScalar.optional(),
  default: RuleScalar.optional(),
});
/** One filter: cBPF mnemonics (harness/seccomp/asm.ts) or a rule list. */
// SC-06: how it is installed (harness/spec/seccomp.ts): NO_NEW_PRIVS, SECCOMP_FILTER_FLAG_*
// names, repeated N times.
const SeccompInstallKeys = {
  no_new_privs: z.boolean().optional(),
  flags: z.array(z.enum(['tsync', 'log', 'spec_allow', 'new_listener', 'tsync_esrch', 'wait_killable_recv'])).optional(),
  repeat: IntLike.optional(),
};
export const SeccompFilterSchema = z.union([
  z.strictObject({ bpf: z.array(z.string()).min(1), ...SeccompInstallKeys }),
  z.strictObject({ rules: z.array(SeccompRuleSchema).min(1), ...SeccompInstallKeys }),
  // N-1 loads and a `ret #ALLOW` (N = 0: an empty program), for the size limits.
  z.strictObject({ generate: IntLike, ...SeccompInstallKeys }),
  // A NULL struct sock_fprog pointer (→ EFAULT).
  z.strictObject({ program: z.null(), ...SeccompInstallKeys }),
]);
// `strict` as the last item: SECCOMP_SET_MODE_STRICT after the filters.
const SeccompListSchema = z.array(z.union([SeccompFilterSchema, z.literal('strict')])).min(1);
// SC-04 (harness/spec/notify.ts): the supervisor's answer to the one notification it receives.
export const NotifySchema = z.strictObject({
  respond: z.union([z.literal('continue'), z.strictObject({ error: nameOr(names(ERRNO)) }), z.strictObject({ val: IntLike })]),
});
export const SeccompSchema = z.union([
  z.literal('strict'), SeccompListSchema,
  // `listener: true` installs the newest filter with SECCOMP_FILTER_FLAG_NEW_LISTENER.
  z.strictObject({ filters: SeccompListSchema, listener: z.boolean().optional(), notify: NotifySchema.optional() }),
]);

/** A tracer action at a ptrace stop (harness/spec/ptrace.ts builds Case.ptrace from it). Values of
 *  `set` are integers; `nr` also takes a syscall name; `args` sets the ABI's argument registers. */
export const PtraceStopName = z.enum(['entry', 'exit', 'seccomp']);
export const PtraceActionSchema = z.strictObject({
  stop: PtraceStopName,
  n: IntLike.optional(),
  set: z.record(z.string(), z.union([z.bigint(), z.string(), z.array(z.union([z.bigint(), z.string()])).max(6)])).optional(),
  // PT-06: after `set`, rip -= 2 and rax = orig_rax (the tracer restarts the call).
  rewind: z.boolean().optional(),
  // PT-07: after `set`, kill(tracee, this signal) while it is stopped.
  kill: z.union([z.bigint(), z.string()]).optional(),
});
export const PtraceSchema = z.strictObject({
  options: z.array(z.enum(['tracesysgood', 'traceseccomp'])).optional(),
  mode: z.enum(['syscall', 'sysemu', 'cont']).optional(),
  at: z.array(PtraceActionSchema).optional(),
});

// ---- expectations ------------------------------------------------------------------

/** An expected value: integer, `$symbol[+-N]`, a name where the field holds a name, or a matcher map. */
export type MatcherInput =
  | bigint
  | string
  | {
      errno?: string | bigint;
      ok?: true;
      one_of?: MatcherInput[];
      not?: MatcherInput;
      range?: [bigint | string, bigint | string];
      min?: bigint | string;
      max?: bigint | string;
      mask?: bigint | string;
      eq?: bigint | string;
    };
export const MatcherSchema: z.ZodType<MatcherInput> = z.lazy(() =>
  z.union([
    z.bigint(),
    z.string(),
    z.strictObject({
      errno: z.union([nameOr(names(ERRNO)), z.bigint()]).optional(),
      ok: z.literal(true).optional(),
      one_of: z.array(MatcherSchema).min(1).optional(),
      not: MatcherSchema.optional(),
      range: z.tuple([IntLike, IntLike]).optional(),
      min: IntLike.optional(),
      max: IntLike.optional(),
      mask: IntLike.optional(),
      eq: IntLike.optional(),
    }),
  ]),
);

const RegListName = nameOr(ALL_REG_KEYS);
export const PreservedSchema = z.union([
  z.literal('all'),
  z.array(RegListName),
  z.strictObject({ all_but: z.array(RegListName) }),
]);

const FlagName = nameOr(FLAG_NAMES);
export const FlagsExpectSchema = z.strictObject({
  set: z.array(FlagName).optional(),
  clear: z.array(FlagName).optional(),
});

export const SignalExpectSchema = z.union([
  SignalNameOr,
  z.strictObject({
    signo: MatcherSchema.optional(),
    code: MatcherSchema.optional(),
    errno: MatcherSchema.optional(),
    addr: MatcherSchema.optional(),
    syscall: MatcherSchema.optional(),
    arch: MatcherSchema.optional(),
    trapno: MatcherSchema.optional(),
    err: MatcherSchema.optional(),
    ...regShape(ALL_REG_KEYS, MatcherSchema),
  }),
]);

/** Address ranges `traps_in` counts single-step traps in (docs/spec-language.md, "Single-step traps"). */
export const TRAP_RANGES = ['next_ip', 'entry_ip', 'vsyscall_page', 'vdso'] as const;

/** One `delivered` item: a signal name, or a map that also checks the flags around its handler (SS-02). */
export const DeliveredExpectSchema = z.union([
  SignalNameOr,
  z.strictObject({
    signo: SignalNameOr,
    // RFLAGS the handler ran with (its first instruction's PUSHF).
    handler_flags: FlagsExpectSchema.optional(),
    // RFLAGS of the interrupted context, as the handler's frame saved them.
    flags: FlagsExpectSchema.optional(),
    // The siginfo si_code the handler got (SI_USER, SI_TKILL, TRAP_PERF, ... or a number).
    code: MatcherSchema.optional(),
  }),
]);

export const MemExpectSchema = z.strictObject({
  text: z.string().optional(),
  hex: z.string().optional(),
  // Typed views of the read-back bytes, each item an expected value (little-endian words from
  // offset 0; timespec/timeval as the case ABI's kernel lays them out, in ns / us).
  u32: z.array(MatcherSchema).min(1).optional(),
  u64: z.array(MatcherSchema).min(1).optional(),
  timespec: MatcherSchema.optional(),
  timeval: MatcherSchema.optional(),
});

/** One expected ptrace stop (prefix match, in order: docs/spec-language.md, ptrace). */
export const PtraceEventExpectSchema = z.strictObject({
  stop: PtraceStopName,
  sig: MatcherSchema.optional(),
  event: MatcherSchema.optional(),
  orig_rax: MatcherSchema.optional(),
  rax: MatcherSchema.optional(),
  rip: MatcherSchema.optional(),
  rsp: MatcherSchema.optional(),
  args: z.array(MatcherSchema).max(6).optional(),
  eventmsg: MatcherSchema.optional(),
  info: z.strictObject({
    op: MatcherSchema.optional(), arch: MatcherSchema.optional(),
    instruction_pointer: MatcherSchema.optional(), stack_pointer: MatcherSchema.optional(),
    nr: MatcherSchema.optional(), args: z.array(MatcherSchema).max(6).optional(),
    ret_data: MatcherSchema.optional(), rval: MatcherSchema.optional(), is_error: MatcherSchema.optional(),
  }).optional(),
});

/** One expected ftrace syscall event (the exact list, in order: docs/ftrace.md). */
export const FtraceEventExpectSchema = z.strictObject({
  event: z.enum(['sys_enter', 'sys_exit']),
  name: z.string().optional(),
  nr: MatcherSchema.optional(),
  args: z.array(MatcherSchema).max(6).optional(),
  ret: MatcherSchema.optional(),
});

const expectShape = {
  outcome: nameOr(['returned', 'signal', 'killed', 'exited']).optional(),
  ret: MatcherSchema.optional(),
  errno: nameOr(names(ERRNO)).optional(),
  ...regShape(ALL_REG_KEYS, MatcherSchema),
  preserved: PreservedSchema.optional(),
  flags: FlagsExpectSchema.optional(),
  signal: SignalExpectSchema.optional(),
  killed: SignalNameOr.optional(),
  exit_code: MatcherSchema.optional(),
  traps: MatcherSchema.optional(),
  // Where the single-step traps hit: how many inside each named range; and the flags every
  // trap's handler ran with.
  traps_in: z.partialRecord(z.enum(TRAP_RANGES), MatcherSchema).optional(),
  trap_handler_flags: FlagsExpectSchema.optional(),
  delivered: z.array(DeliveredExpectSchema).optional(),
  memory: z.record(LocalName, MemExpectSchema).optional(),
  events: z.array(PtraceEventExpectSchema).optional(),
  event_count: MatcherSchema.optional(),
  ftrace: z.array(FtraceEventExpectSchema).optional(),
  // After-call steps (issue 6): the 8 bytes `peek` read, the selectors `segs` loaded.
  peek: MatcherSchema.optional(),
  segs: z.strictObject(regShape(DATA_SEG_KEYS, MatcherSchema)).optional(),
  // RG-06: the 32-bit value the case's compat_stack: step popped back.
  compat_stack: MatcherSchema.optional(),
  // VD-01/VD-04: auxiliary-vector entries and the kernel's special mappings (harness/spec/maps.ts).
  auxv: auxvSchema(MatcherSchema),
  maps: mapsSchema(MatcherSchema),
  // SC-06: each seccomp install's result, in order: `ok` or the errno it failed with.
  seccomp_install: z.array(z.union([z.literal('ok'), z.literal('thread_tid'), nameOr(names(ERRNO)), z.strictObject({ errno: nameOr(names(ERRNO)) })])).optional(),
  // Case.thread: how the second thread's call ended; whether the process (its main thread) lived.
  thread: z.enum(['returned', 'signal', 'killed']).optional(),
  process: z.enum(['alive', 'killed']).optional(),
  // SC-04: struct seccomp_notif as the supervisor received it, or `none` (nothing arrived).
  notification: z.union([z.literal('none'), z.strictObject({
    id: MatcherSchema.optional(), pid: MatcherSchema.optional(), flags: MatcherSchema.optional(),
    nr: MatcherSchema.optional(), arch: MatcherSchema.optional(), instruction_pointer: MatcherSchema.optional(),
    args: z.array(MatcherSchema).max(6).optional(),
  })]).optional(),
};
/** One alternative of `any_of`: an expectation map with an optional `why`. */
export const ExpectAltSchema = z.strictObject({ ...expectShape, why: z.string().optional() });
export const ExpectSchema = z.strictObject({
  ...expectShape,
  any_of: z.array(ExpectAltSchema).min(1).optional(),
});

// ---- set-up calls ------------------------------------------------------------------

/** At most this many set-up calls per case (the probes keep them in a fixed array). */
export const MAX_SETUP_CALLS = 8;
/** One system call made before the call under test: a name in the case ABI's table, its
 *  arguments as input values, and optionally the errno it must fail with. */
export const SetupCallSchema = z.strictObject({
  call: z.string().min(1),
  args: z.array(Value).max(6).optional(),
  expect_errno: nameOr(names(ERRNO)).optional(),
  // x86_64/x32 only: `int $0x80` from 64-bit code (the i386 table) instead of SYSCALL.
  entry: z.literal('int80').optional(),
});

/** `thread:` (SC-04/05/06): the call runs in a second thread; `true` is { main_seccomp: before }.
 *  main_seccomp: when the main thread installs the case's seccomp: (before/after the clone);
 *  seccomp: filters the second thread installs for itself (programs only: the recipe). */
export const ThreadSchema = z.union([z.literal(true), z.strictObject({
  main_seccomp: z.enum(['before', 'after']).optional(),
  seccomp: z.array(z.union([
    z.strictObject({ bpf: z.array(z.string()).min(1) }),
    z.strictObject({ rules: z.array(SeccompRuleSchema).min(1) }),
  ])).min(1).optional(),
})]);

// ---- cases -------------------------------------------------------------------------

/** Keys a case shares with `defaults` and `per_abi` overrides. */
/** Where a case's hardware instruction breakpoint can be put (Case.breakpoint, RT-04). */
export const BREAKPOINT_AT = ['next_ip'] as const;

const caseBody = {
  entry: nameOr(ENTRIES).optional(),
  code: z.union([z.enum(['64', 'compat']), z.literal(64n), Placeholder]).optional(),
  call: z.string().optional(),
  nr: IntLike.optional(),
  nr_high: IntLike.optional(),
  args: z.array(Value).max(6).optional(),
  regs: RegsSchema.optional(),
  flags: z.array(nameOr(SETTABLE_FLAGS)).optional(),
  memory: z.record(LocalName, MemRegionSchema).optional(),
  fds: z.record(LocalName, FdSchema).optional(),
  signals: z.partialRecord(z.enum(names(SIGNALS)), SignalSetupSchema).optional(),
  blocked: z.array(SignalNameOr).optional(),
  symbol: z.string().optional(),
  vsyscall: IntLike.optional(),
  place_next_ip: IntLike.optional(),
  sigreturn: z.strictObject(regShape(ALL_REG_KEYS, Value)).optional(),
  seccomp: SeccompSchema.optional(),
  thread: ThreadSchema.optional(),
  ptrace: PtraceSchema.optional(),
  ftrace: z.boolean().optional(),
  segs: z.strictObject(regShape(DATA_SEG_KEYS, IntLike)).optional(),
  peek: z.union([Value, z.strictObject({ seg: z.enum(DATA_SEG_KEYS).optional(), at: Value })]).optional(),
  // RG-06: push/pop this 32-bit value in compat code after the call; run under contention.
  compat_stack: IntLike.optional(),
  contend: z.union([IntLike, z.strictObject({ repeat: IntLike })]).optional(),
  // RT-04: a hardware instruction breakpoint on the instruction the entry returns to.
  breakpoint: z.strictObject({ at: z.enum(BREAKPOINT_AT) }).optional(),
  // System calls made before the call under test (harness/spec/setup.ts builds Case.setup).
  setup: z.array(SetupCallSchema).min(1).max(MAX_SETUP_CALLS).optional(),
  // System calls made right after the call under test returned (the same shape; Case.after).
  after: z.array(SetupCallSchema).min(1).max(MAX_SETUP_CALLS).optional(),
  // FSGSBASE instructions run right before the entry (harness/spec/before.ts builds Case.before).
  before: BeforeListSchema.optional(),
  isolate: z.boolean().optional(),
  timeout_ms: IntLike.optional(),
  requires: RequiresSchema.optional(),
  expect: ExpectSchema.optional(),
};

/** A partial case: `defaults` at spec level, `per_abi.<abi>` inside a case. */
export const CasePartialSchema = z.strictObject(caseBody);

export const CaseSchema = z.strictObject({
  name: z.string().min(1),
  abi: AbiList.optional(),
  ...caseBody,
  vary: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a placeholder name'),
    z.array(z.union([z.bigint(), z.string(), z.boolean()])).min(1)).optional(),
  per_abi: z.partialRecord(ABI_ENUM, CasePartialSchema).optional(),
  skip: z.partialRecord(ABI_ENUM, z.string().min(1)).optional(),
});

// ---- the file ----------------------------------------------------------------------

export const SPEC_ID_RE = /^[a-z0-9_]+(\.[a-z0-9_]+)+$/;
export const REF_KINDS = ['kernel', 'manual', 'selftest', 'commit', 'doc', 'url'] as const;
export const RefSchema = z
  .strictObject(Object.fromEntries(REF_KINDS.map((k) => [k, z.string().min(1).optional()])) as Record<
    (typeof REF_KINDS)[number], z.ZodOptional<z.ZodString>>)
  .refine((r) => Object.keys(r).length === 1, {
    message: `a ref is a one-key map: one of ${REF_KINDS.join(', ')}`,
  });

export const SpecSchema = z.strictObject({
  id: z.string().regex(SPEC_ID_RE, 'a dotted lowercase id such as entry.syscall64.clobbers'),
  title: z.string().min(1),
  description: z.string().min(1),
  covers: z.array(z.enum(CATALOGUE_IDS)).optional(),
  refs: z.array(RefSchema).min(1),
  tags: z.array(z.string()).min(1),
  abi: AbiList.optional(),
  entry: z.enum(ENTRIES).optional(),
  requires: RequiresSchema.optional(),
  defaults: CasePartialSchema.optional(),
  cases: z.array(CaseSchema).min(1),
});

export type SpecFile = z.infer<typeof SpecSchema>;
export type CaseInput = z.infer<typeof CaseSchema>;
export type CasePartial = z.infer<typeof CasePartialSchema>;
export type ExpectInput = z.infer<typeof ExpectSchema>;
export type ExpectAltInput = z.infer<typeof ExpectAltSchema>;
export type RequiresInput = z.infer<typeof RequiresSchema>;
export type MemRegionInput = z.infer<typeof MemRegionSchema>;
export type FdInput = z.infer<typeof FdSchema>;
