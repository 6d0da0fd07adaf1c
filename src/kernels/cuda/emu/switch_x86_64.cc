// switch_x86_64.cc — emu_switch(void** from_sp, void* to_sp), the fiber switch of cuda_emu.h
// (System V x86-64), as file-scope assembly so that no ASM language is needed in CMake.
// Pushes the callee-saved registers on the current stack, stores its pointer in *from_sp, moves
// to to_sp and pops the registers saved there; ret resumes that fiber.
asm(R"(
  .pushsection .text
  .globl emu_switch
  .type emu_switch,@function
emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size emu_switch, .-emu_switch
  .popsection
)");
