"""Raw-pointer walks over an llvmlite module: the graph builder's hot loop without wrappers.

Why: through llvmlite's object API, a suite kernel's graph costs about 5,000 FFI calls, each
behind a global lock and each returning a Python object with a finaliser; that was the largest
fixed cost of `embed` (about 12 ms of 54). The same `LLVMPY_*` entry points are bound here a
second time, with plain `c_void_p` arguments and results, so a value is an int and a call is
one ctypes call. Only read-only queries are bound. The caller must keep the parsed module
alive while it walks it (every pointer here is owned by that module).

llvmlite exports only its own `LLVMPY_*` functions, not LLVM's C API; the signatures below are
those llvmlite itself declares (llvmlite/binding/value.py, module.py, typeref.py).
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator

import llvmlite.binding as llvm
from llvmlite.binding import ffi

_P = ctypes.c_void_p


def _bind(name: str, restype, *argtypes):
    fn = ffi.lib._lib[name]  # a fresh function object: llvmlite's own bindings stay untouched
    fn.restype = restype
    fn.argtypes = list(argtypes)
    return fn


_module_functions = _bind("LLVMPY_ModuleFunctionsIter", _P, _P)
_functions_next = _bind("LLVMPY_FunctionsIterNext", _P, _P)
_functions_dispose = _bind("LLVMPY_DisposeFunctionsIter", None, _P)
_function_args = _bind("LLVMPY_FunctionArgumentsIter", _P, _P)
_args_next = _bind("LLVMPY_ArgumentsIterNext", _P, _P)
_args_dispose = _bind("LLVMPY_DisposeArgumentsIter", None, _P)
_function_blocks = _bind("LLVMPY_FunctionBlocksIter", _P, _P)
_blocks_next = _bind("LLVMPY_BlocksIterNext", _P, _P)
_blocks_dispose = _bind("LLVMPY_DisposeBlocksIter", None, _P)
_block_insts = _bind("LLVMPY_BlockInstructionsIter", _P, _P)
_insts_next = _bind("LLVMPY_InstructionsIterNext", _P, _P)
_insts_dispose = _bind("LLVMPY_DisposeInstructionsIter", None, _P)
_inst_operands = _bind("LLVMPY_InstructionOperandsIter", _P, _P)
_operands_next = _bind("LLVMPY_OperandsIterNext", _P, _P)
_operands_dispose = _bind("LLVMPY_DisposeOperandsIter", None, _P)
_opcode_name = _bind("LLVMPY_GetOpcodeName", _P, _P)
_dispose_string = _bind("LLVMPY_DisposeString", None, _P)
_type_of = _bind("LLVMPY_TypeOf", _P, _P)
_print_type = _bind("LLVMPY_PrintType", _P, _P)
value_kind = _bind("LLVMPY_GetValueKind", ctypes.c_int, _P)
_value_name = _bind("LLVMPY_GetValueName", ctypes.c_char_p, _P)
is_declaration = _bind("LLVMPY_IsDeclaration", ctypes.c_int, _P)


def module_pointer(mod: llvm.ModuleRef) -> int:
    return ctypes.cast(mod._as_parameter_, _P).value


def _walk(it: int, step, dispose) -> Iterator[int]:
    try:
        while p := step(it):
            yield p
    finally:
        dispose(it)


def functions(mod: int) -> Iterator[int]:
    return _walk(_module_functions(mod), _functions_next, _functions_dispose)


def arguments(fn: int) -> Iterator[int]:
    return _walk(_function_args(fn), _args_next, _args_dispose)


def blocks(fn: int) -> Iterator[int]:
    return _walk(_function_blocks(fn), _blocks_next, _blocks_dispose)


def instructions(block: int) -> list[int]:
    return list(_walk(_block_insts(block), _insts_next, _insts_dispose))


def operands(inst: int) -> list[int]:
    return list(_walk(_inst_operands(inst), _operands_next, _operands_dispose))


def _owned_string(p: int) -> str:
    try:
        return ctypes.string_at(p).decode()
    finally:
        _dispose_string(p)


def opcode(inst: int) -> str:
    return _owned_string(_opcode_name(inst))


def name(v: int) -> str:
    return (_value_name(v) or b"").decode()


def type_of(v: int) -> int:
    """The llvm::Type* of a value: types are uniqued per context, so the int is an identity."""
    return _type_of(v)


def type_text(t: int) -> str:
    return _owned_string(_print_type(t))


def value_ref(v: int) -> llvm.ValueRef:
    """An llvmlite wrapper for the rare query not bound here (constant values)."""
    return llvm.ValueRef(ctypes.cast(v, ffi.LLVMValueRef), "operand", {})


_set_value_name = _bind("LLVMPY_SetValueName", None, _P, ctypes.c_char_p)


def set_name(v: int, new: str) -> None:
    """Rename a value in place (the one write bound here: normalisation clears local names)."""
    _set_value_name(v, new.encode())
