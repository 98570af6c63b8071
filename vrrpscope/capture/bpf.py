"""Compile BPF filter expressions: libpcap through ctypes, else `tcpdump -ddd`."""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import struct
import subprocess

from vrrpscope.errors import LiveError

LINKTYPE_ETHERNET = 1
_PCAP_NETMASK_UNKNOWN = 0xFFFFFFFF

_VRRP_TRAFFIC = (
    "ip proto 112 or ip proto 51 or ip6 proto 112 or ip6 proto 51"
    " or dst net 224.0.0.0/8 or dst net ff02::/16 or arp"
)
DEFAULT_FILTER = f"({_VRRP_TRAFFIC}) or (vlan and ({_VRRP_TRAFFIC}))"
"""VRRP and CARP (also unicast and AH-wrapped), link-local multicast, ARP; tagged or not."""

Instruction = tuple[int, int, int, int]  # code, jt, jf, k


class _BpfInsn(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint32),
    ]


class _BpfProgram(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.POINTER(_BpfInsn))]


def compile_filter(expression: str, linktype: int = LINKTYPE_ETHERNET) -> list[Instruction]:
    """Classic BPF for `expression`; raises LiveError with a clear line when impossible."""
    lib = _libpcap()
    if lib is not None:
        return _compile_with_libpcap(lib, expression, linktype)
    if shutil.which("tcpdump"):
        return _compile_with_tcpdump(expression)
    raise LiveError(
        f"cannot compile the filter {expression!r}: neither libpcap (Debian: libpcap0.8) nor "
        "tcpdump is installed; install one, or run without --filter"
    )


def _libpcap() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("pcap")
    for candidate in filter(None, (name, "libpcap.so.1", "libpcap.so.0.8")):
        try:
            return ctypes.CDLL(candidate)
        except OSError:
            continue
    return None


def _compile_with_libpcap(lib: ctypes.CDLL, expression: str, linktype: int) -> list[Instruction]:
    lib.pcap_open_dead.restype = ctypes.c_void_p
    lib.pcap_open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.pcap_compile.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(_BpfProgram),
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_uint32,
    ]
    lib.pcap_geterr.restype = ctypes.c_char_p
    lib.pcap_geterr.argtypes = [ctypes.c_void_p]
    lib.pcap_freecode.argtypes = [ctypes.POINTER(_BpfProgram)]
    lib.pcap_close.argtypes = [ctypes.c_void_p]
    handle = lib.pcap_open_dead(linktype, 262144)
    if not handle:
        raise LiveError("libpcap could not open a handle to compile the filter")
    program = _BpfProgram()
    try:
        status = lib.pcap_compile(
            handle, ctypes.byref(program), expression.encode(), 1, _PCAP_NETMASK_UNKNOWN
        )
        if status != 0:
            reason = (lib.pcap_geterr(handle) or b"syntax error").decode(errors="replace")
            raise LiveError(f"bad filter {expression!r}: {reason}")
        insns = [
            (i.code, i.jt, i.jf, i.k) for i in (program.bf_insns[n] for n in range(program.bf_len))
        ]
        lib.pcap_freecode(ctypes.byref(program))
        return insns
    finally:
        lib.pcap_close(handle)


def _compile_with_tcpdump(expression: str) -> list[Instruction]:
    result = subprocess.run(
        ["tcpdump", "-y", "EN10MB", "-ddd", expression],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if result.returncode != 0:
        reason = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "error"
        raise LiveError(f"bad filter {expression!r}: {reason}")
    numbers = result.stdout.split("\n")
    count = int(numbers[0])
    return [tuple(int(x) for x in line.split()) for line in numbers[1 : 1 + count]]


class AttachedProgram:
    """A sock_fprog for SO_ATTACH_FILTER; keep it alive while the kernel copies it."""

    def __init__(self, insns: list[Instruction]) -> None:
        self._array = (_BpfInsn * len(insns))(*[_BpfInsn(*insn) for insn in insns])
        address = ctypes.addressof(self._array)
        self.fprog = struct.pack("HL", len(insns), address)  # struct sock_fprog, native
