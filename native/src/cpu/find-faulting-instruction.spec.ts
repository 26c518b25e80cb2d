import { describe, expect, it } from "vitest";
import { parseGdbFault } from "./find-faulting-instruction.js";

describe("parseGdbFault", () => {
  it("should read the instruction and function of a SIGILL in a worker thread", () => {
    const out = [
      '[New Thread 0x7ffff6dff6c0 (LWP 2242)]',
      'Thread 3 "llama-perplexit" received signal SIGILL, Illegal instruction.',
      "[Switching to Thread 0x7ffff6dff6c0 (LWP 2242)]",
      "0x00005555556f1c3e in void ggml::cpu::amx::tinygemm_kernel_amx<block_q8_0, float, 1, 2>(int, int, int, void const*, void const*, float*, long) ()",
      "=> 0x5555556f1c3e <_ZN4ggml3cpu3amx19tinygemm_kernel_amxI10block_q8_0fLi1ELi2EEEviiiPKvS5_Pfl+94>:\ttilezero %tmm4",
      "#0  0x00005555556f1c3e in void ggml::cpu::amx::tinygemm_kernel_amx<block_q8_0, float, 1, 2>(int, int, int, void const*, void const*, float*, long) ()",
    ].join("\n");
    expect(parseGdbFault(out)).toEqual({ instruction: "tilezero %tmm4", function: "void ggml::cpu::amx::tinygemm_kernel_amx<block_q8_0, float, 1, 2>", feature: "amx" });
  });

  it("should take the function from the stop line of a program with symbols, and nothing when it did not fault", () => {
    const out = "Program received signal SIGILL, Illegal instruction.\nmain () at ill.c:2\n2\tint main(void) { return work(); }\n=> 0x555555555134 <main>:\ttilezero %tmm4\n#0  main () at ill.c:2";
    expect(parseGdbFault(out)).toEqual({ instruction: "tilezero %tmm4", function: "main", feature: "amx" });
    expect(parseGdbFault("[Inferior 1 (process 12) exited normally]")).toBeUndefined();
  });
});
