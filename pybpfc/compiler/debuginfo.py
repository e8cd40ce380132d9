"""Debug information for the emitted module.

LLVM's BPF backend turns this metadata into ``.BTF`` (types, functions,
global variables) and ``.BTF.ext`` (func info and line info).  The source
text is embedded in the file entry, so line info carries the Python lines
and the verifier and bpftool can show them next to the instructions.
"""
from __future__ import annotations

import os
from typing import Optional

import llvmlite.ir as ir

from .. import abi
from .errors import Source
from .types import BOOL, ArrayType, ContextType, IntType, KernelPtrType, StructType, Type

POINTER_BITS = 64


class _Reference(ir.DIToken):
    """A metadata operand that names another node (``!N``).  Its target
    may be filled in after the node that names it exists, as cycles need
    (a subprogram lists variables whose scope is itself).  And it is cheap
    to look a node up by: llvmlite finds an equal node by hashing the
    operands, which hashes a node operand through its whole tree of
    metadata, a reference only by identity."""

    def __init__(self, target: Optional[ir.MDValue] = None) -> None:
        self.target = target

    @property  # type: ignore[override]
    def value(self) -> str:
        assert self.target is not None
        return self.target.get_reference()


class _Location(ir.DIValue):
    """A ``!DILocation``, made and written the way add_debug_info and
    DIValue would (same number, same text) without their general
    machinery, which sorted, keyed and looked up its operands only to find
    it new, and wrote it through a chain of type tests: lowering asks for a
    location at nearly every node, and DebugInfo.location is the only place
    locations are made."""

    def __init__(self, module: ir.Module, line: int, col: int, scope: _Reference):
        self.parent = module
        self.type = _METADATA
        self._name = module.scope.register(str(len(module.metadata)))
        self.is_distinct = False
        self.kind = "DILocation"
        self.operands = (("column", col), ("line", line), ("scope", scope))
        module.metadata.append(self)

    def descr(self, buf: list[str]) -> None:
        (_, col), (_, line), (_, scope) = self.operands
        buf += ("!DILocation(column: ", str(col), ", line: ", str(line), ", scope: ",
                scope.value, ")\n")


_METADATA = ir.MetaDataType()

# The characters LLVM's text takes as they are in a string; any other byte
# (of the UTF-8 encoding) is written as \XX.
_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                   b" !#$%&'()*+,-./:;<=>?@[]^_`{|}~")
_ESCAPED = {c: f"\\{c:02x}" for c in range(128) if c not in _PLAIN}


def _quoted(text: str) -> str:
    """``text`` as a string in LLVM's text, as DIValue writes one: the
    source embedded in the file's entry is escaped in one pass here rather
    than byte by byte when the module is written."""
    if text.isascii():
        return '"' + text.translate(_ESCAPED) + '"'
    return '"' + "".join(chr(b) if b in _PLAIN else f"\\{b:02x}" for b in text.encode()) + '"'


class DebugInfo:
    def __init__(self, module: ir.Module, source: Source):
        self.module = module
        path = os.path.abspath(source.path)
        self.file = module.add_debug_info("DIFile", {
            "filename": os.path.basename(path),
            "directory": os.path.dirname(path),
            "source": ir.DIToken(_quoted(source.text)),
        })
        self._globals = _Reference()
        self._global_exprs: list[ir.DIValue] = []
        self.unit = module.add_debug_info("DICompileUnit", {
            "language": ir.DIToken("DW_LANG_C99"),
            "file": self.file,
            "producer": "pybpfc",
            "isOptimized": True,
            "runtimeVersion": 0,
            "emissionKind": ir.DIToken("FullDebug"),
            "globals": self._globals,
        }, is_distinct=True)
        module.add_named_metadata("llvm.dbg.cu", self.unit)
        i32 = ir.IntType(32)
        module.add_named_metadata("llvm.module.flags", [i32(7), "Dwarf Version", i32(5)])
        module.add_named_metadata("llvm.module.flags", [i32(2), "Debug Info Version", i32(3)])
        self._types: dict[object, ir.DIValue] = {}
        # Lowering asks for a location at every node: each is made once,
        # naming its scope through a reference (see _Reference).
        self._locations: dict[tuple[int, int, int], ir.DIValue] = {}
        self._scopes: dict[int, _Reference] = {}

    def finish(self) -> None:
        self._globals.target = self.module.add_metadata(self._global_exprs)

    # ------------------------------------------------------------ types

    def type(self, ty: Type) -> ir.DIValue:
        key = id(ty) if isinstance(ty, StructType) else ty
        if key in self._types:
            return self._types[key]
        di = self._make_type(ty)
        self._types[key] = di
        return di

    def _make_type(self, ty: Type) -> ir.DIValue:
        m = self.module
        if isinstance(ty, IntType):
            return m.add_debug_info("DIBasicType", {
                "name": ty.name, "size": ty.bits,
                "encoding": ir.DIToken("DW_ATE_signed" if ty.signed else "DW_ATE_unsigned")})
        if ty is BOOL:
            return m.add_debug_info("DIBasicType", {
                "name": "bool", "size": 8, "encoding": ir.DIToken("DW_ATE_boolean")})
        if isinstance(ty, ArrayType):
            sub = m.add_debug_info("DISubrange", {"count": ty.length})
            return m.add_debug_info("DICompositeType", {
                "tag": ir.DIToken("DW_TAG_array_type"), "baseType": self.type(ty.elem),
                "size": ty.size * 8, "elements": m.add_metadata([sub])})
        if isinstance(ty, StructType):
            members = [m.add_debug_info("DIDerivedType", {
                "tag": ir.DIToken("DW_TAG_member"), "name": name, "file": self.file,
                "baseType": self.type(fty), "size": fty.size * 8, "offset": offset * 8})
                for name, fty, offset in ty.fields]
            return m.add_debug_info("DICompositeType", {
                "tag": ir.DIToken("DW_TAG_structure_type"), "name": ty.name,
                "file": self.file, "size": ty.size * 8,
                "elements": m.add_metadata(members)})
        if isinstance(ty, ContextType):
            return self.context_pointer(ty.context)
        if isinstance(ty, KernelPtrType):
            return self.struct_pointer(ty.struct)
        raise TypeError(f"no debug type for {ty}")

    def context_pointer(self, context: abi.Context) -> ir.DIValue:
        """A pointer to the kernel's context struct, declared by name only:
        the kernel knows its layout."""
        return self.struct_pointer(context.c_name)

    def struct_pointer(self, c_name: str) -> ir.DIValue:
        """A pointer to a kernel struct, declared by name only."""
        key = ("ctx", c_name)
        if key not in self._types:
            fwd = self.module.add_debug_info("DICompositeType", {
                "tag": ir.DIToken("DW_TAG_structure_type"), "name": c_name,
                "file": self.file, "flags": ir.DIToken("DIFlagFwdDecl")})
            self._types[key] = self.module.add_debug_info("DIDerivedType", {
                "tag": ir.DIToken("DW_TAG_pointer_type"), "baseType": fwd, "size": 64})
        return self._types[key]

    # -------------------------------------------------------- functions

    def subprogram(self, name: str, line: int, ret: Optional[Type],
                   params: list[tuple[str, Type, int]], local: bool) -> ir.DIValue:
        """A function's debug entry; ``params`` are (name, type, line)."""
        m = self.module
        ret_di = self.type(ret) if ret is not None else None
        sub_type = m.add_debug_info("DISubroutineType", {
            "types": m.add_metadata([ret_di] + [self.type(t) for _, t, _ in params])})
        retained = _Reference()
        flags = "DISPFlagDefinition | DISPFlagOptimized" + (" | DISPFlagLocalToUnit" if local else "")
        sp = m.add_debug_info("DISubprogram", {
            "name": name, "scope": self.file, "file": self.file, "line": line,
            "type": sub_type, "scopeLine": line, "unit": self.unit,
            "spFlags": ir.DIToken(flags), "retainedNodes": retained,
        }, is_distinct=True)
        # BTF names a function's arguments after these variables.
        args = [m.add_debug_info("DILocalVariable", {
            "name": pname, "arg": i + 1, "scope": sp, "file": self.file, "line": pline,
            "type": self.type(pty)}) for i, (pname, pty, pline) in enumerate(params)]
        retained.target = m.add_metadata(args)
        return sp

    def location(self, line: int, col: int, scope: ir.DIValue) -> ir.DIValue:
        key = (line, col, id(scope))
        found = self._locations.get(key)
        if found is None:
            reference = self._scopes.get(id(scope))
            if reference is None:
                reference = self._scopes[id(scope)] = _Reference(scope)
            found = self._locations[key] = _Location(self.module, line, col, reference)
        return found

    # ------------------------------------------------------------- maps

    def map_variable(self, gv: ir.GlobalVariable, name: str, line: int,
                     members: list[tuple[str, object]]) -> None:
        """A map as libbpf reads it from ``.maps``: a struct whose members
        are pointers, each saying one thing through the type it points to.
        ``members`` are (name, what): an int is encoded as the length of an
        array of int (``type``, ``max_entries``, ``map_flags``); a Type is
        the pointee itself (``key``, ``value``)."""
        m = self.module
        fields = []
        for i, (member, what) in enumerate(members):
            pointee = self._int_array(what) if isinstance(what, int) else self.type(what)  # type: ignore[arg-type]
            pointer = m.add_debug_info("DIDerivedType", {
                "tag": ir.DIToken("DW_TAG_pointer_type"), "baseType": pointee,
                "size": POINTER_BITS})
            fields.append(m.add_debug_info("DIDerivedType", {
                "tag": ir.DIToken("DW_TAG_member"), "name": member, "file": self.file,
                "baseType": pointer, "size": POINTER_BITS, "offset": i * POINTER_BITS}))
        struct = m.add_debug_info("DICompositeType", {
            "tag": ir.DIToken("DW_TAG_structure_type"), "file": self.file, "line": line,
            "size": POINTER_BITS * len(members), "elements": m.add_metadata(fields)})
        self._attach_global(gv, name, line, struct)

    def _int_array(self, count: int) -> ir.DIValue:
        m = self.module
        key = ("int[]", count)
        if key not in self._types:
            if "int" not in self._types:
                self._types["int"] = m.add_debug_info("DIBasicType", {
                    "name": "int", "size": 32, "encoding": ir.DIToken("DW_ATE_signed")})
            sub = m.add_debug_info("DISubrange", {"count": count})
            self._types[key] = m.add_debug_info("DICompositeType", {
                "tag": ir.DIToken("DW_TAG_array_type"), "baseType": self._types["int"],
                "size": 32 * count, "elements": m.add_metadata([sub])})
        return self._types[key]

    # ---------------------------------------------------------- globals

    def global_variable(self, gv: ir.GlobalVariable, name: str, ty: Type, line: int) -> None:
        self._attach_global(gv, name, line, self.type(ty))

    def _attach_global(self, gv: ir.GlobalVariable, name: str, line: int,
                       di_type: ir.DIValue) -> None:
        m = self.module
        var = m.add_debug_info("DIGlobalVariable", {
            "name": name, "scope": self.unit, "file": self.file, "line": line,
            "type": di_type, "isLocal": False, "isDefinition": True}, is_distinct=True)
        expr = m.add_debug_info("DIGlobalVariableExpression", {
            "var": var, "expr": m.add_debug_info("DIExpression", {})})
        gv.set_metadata("dbg", expr)
        self._global_exprs.append(expr)
