#!/usr/bin/env python3
"""Disassembles C2's code for one method from a JVM's -XX:+PrintAssembly output without hsdis.

Without the hsdis plugin, HotSpot prints compiled code as hex words. This script takes the last
(or the given) C2 compile of a method from such a log, turns the hex back into bytes and runs
objdump on them, keeping HotSpot's comments (call targets, metadata) next to the instructions.

  java ... -XX:+UnlockDiagnosticVMOptions -XX:CompileCommand=print,dev.kiri.kernels.matmul.VectorDots::q4_0x8 ... > log.txt
  scripts/c2-disasm.py log.txt 'VectorDots::q4_0x8 ('        # the last C2 compile whose header contains the text
  scripts/c2-disasm.py log.txt 'VectorDots::q4_0x8 (' --count  # instruction counts by mnemonic
  scripts/c2-disasm.py log.txt 'VectorDots::q4_0x8 (' --loop | llvm-mca -mcpu=znver3 -iterations=300

--loop prints only the body of the method's hot loop, as plain AT&T instructions for llvm-mca: the
innermost loop (a backward branch with no other loop inside it) with the most multiply, FMA and
widening instructions, its exits to slow paths (forward branches, such as failed range checks)
left out. llvm-mca then estimates cycles per iteration and port pressure for a CPU model
(znver3 for the AMD reference machine, icelake-server for Intel); count the blocks one iteration
covers (C2 unrolls) before comparing variants.

Needs objdump (binutils).
"""
import re
import subprocess
import sys
import tempfile


def sections(lines, needle):
    starts = [i for i, l in enumerate(lines) if l.startswith('Compiled method (c2)') and needle in l]
    if not starts:
        sys.exit('no C2 compile whose header contains %r' % needle)
    return starts[-1]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    lines = open(sys.argv[1], errors='replace').read().split('\n')
    start = sections(lines, sys.argv[2])
    code, base, comments, in_code = bytearray(), None, {}, False
    for line in lines[start + 1:]:
        if line.startswith('Compiled method'):
            break
        if '[MachCode]' in line:
            in_code = True
            continue
        if not in_code:
            continue
        m = re.match(r'\s+0x([0-9a-f]+): ((?:[0-9a-f]{2,8}\s*\|?\s*)+)$', line)
        if m:
            addr = int(m.group(1), 16)
            data = bytes.fromhex(''.join(m.group(2).replace('|', '').split()))
            if base is None:
                base = addr
            gap = addr - base - len(code)
            if gap > 0:
                code += b'\x90' * gap
            if gap >= 0:
                code += data
            continue
        c = re.match(r'\s+0x([0-9a-f]+): (;.*)', line)
        if c:
            comments.setdefault(int(c.group(1), 16), []).append(c.group(2)[:160])
    if base is None:
        sys.exit('no machine code found (was the log made with hsdis? then it is already readable)')
    with tempfile.NamedTemporaryFile(suffix='.bin') as f:
        f.write(code)
        f.flush()
        out = subprocess.run(['objdump', '-D', '-b', 'binary', '-mi386:x86-64', '--adjust-vma=%#x' % base, f.name],
                             capture_output=True, text=True, check=True).stdout
    if '--loop' in sys.argv:
        print_loop(out)
        return
    counts = {}
    for line in out.split('\n'):
        m = re.match(r'\s*([0-9a-f]+):\t[0-9a-f ]+\t(\S+)', line)
        if m:
            counts[m.group(2)] = counts.get(m.group(2), 0) + 1
            if '--count' not in sys.argv:
                for note in comments.get(int(m.group(1), 16), []):
                    print('      ' + note)
        if '--count' not in sys.argv:
            print(line)
    if '--count' in sys.argv:
        for name, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            print('%6d %s' % (n, name))


def print_loop(out):
    ins = []
    for line in out.split('\n'):
        m = re.match(r'\s*([0-9a-f]+):\t[0-9a-f ]+\t(.*)', line)
        if m and m.group(2).strip() and not m.group(2).startswith('(bad)'):
            ins.append((int(m.group(1), 16), m.group(2).split('#')[0].strip()))
    loops = []
    for addr, text in ins:
        b = re.match(r'j\w+\s+0x([0-9a-f]+)', text)
        if b and int(b.group(1), 16) < addr:
            loops.append((int(b.group(1), 16), addr))
    inner = [l for l in loops if not any(o != l and l[0] <= o[0] and o[1] <= l[1] for o in loops)]
    if not inner:
        sys.exit('no loop found')
    work = re.compile(r'(vfmadd|vpmull|vpmadd|vpdp|vmulp|vpmovsx|vpmovzx|vcvtdq2ps)')
    lo, hi = max(inner, key=lambda l: sum(1 for a, t in ins if l[0] <= a <= l[1] and work.match(t)))
    for addr, text in ins:
        if lo <= addr <= hi:
            if re.match(r'j\w+\s+0x', text):
                if addr == hi:
                    print('# back edge: ' + text.split()[0])
                continue
            print(text)


if __name__ == '__main__':
    try:
        main()
    except BrokenPipeError:  # piped into head
        sys.exit(0)
