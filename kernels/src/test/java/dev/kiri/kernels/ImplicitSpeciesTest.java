package dev.kiri.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.classfile.ClassFile;
import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeModel;
import java.lang.classfile.MethodModel;
import java.lang.classfile.instruction.FieldInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The kernels never ask the Vector API for a species it has to look up at run time.
 *
 * <p>{@code convert(op, part)}, {@code reinterpretAsInts()} and the other shape-invariant forms find
 * their result species with {@code withLanes}, a lookup in a lazily filled cache. When C2 does not
 * fold that lookup to a constant, it falls back on the type profile of the Vector API's shared
 * {@code convert0}, which every kernel's conversions feed: with more than one species seen there,
 * the conversion is not intrinsified and every vector crossing it is allocated on the heap, for as
 * long as the JVM runs (docs/KERNELS.md, "Steady-state allocation in decode"). The explicit forms
 * ({@code convertShape(op, SPECIES, part)}, {@code reinterpretShape(SPECIES, 0)}) take a constant
 * species and do not depend on any profile. This test reads the compiled kernel classes and fails
 * on any call to the implicit forms, so that none comes back.
 */
class ImplicitSpeciesTest {
    /** Vector API methods that derive their result species at run time. */
    private static final Set<String> IMPLICIT = Set.of(
            "convert", "reinterpretAsBytes", "reinterpretAsShorts", "reinterpretAsInts", "reinterpretAsLongs",
            "reinterpretAsFloats", "reinterpretAsDoubles", "viewAsIntegralLanes", "viewAsFloatingLanes",
            "withLanes", "withShape");

    @Test
    void kernelsUseOnlyConstantSpecies() throws Exception {
        List<String> found = new ArrayList<>();
        int[] vectorCalls = {0};
        forEachInstruction((where, e) -> {
            if (e instanceof InvokeInstruction inv && inv.owner().asInternalName().startsWith("jdk/incubator/vector/")) {
                vectorCalls[0]++;
                if (IMPLICIT.contains(inv.name().stringValue())) {
                    found.add(where + " calls " + inv.owner().asInternalName() + "." + inv.name().stringValue());
                }
            }
        });
        assertTrue(vectorCalls[0] > 100, "expected Vector API calls in the kernel classes, found " + vectorCalls[0]);
        assertEquals(List.of(), found, "Vector API calls that look their species up at run time");
    }

    /**
     * Nor do they widen with the Vector API's zero extensions ({@code ZERO_EXTEND_B2S} and the
     * rest): those check the converted vector's class after the conversion, which in some JIT states
     * C2 compiled against a boxed vector, allocating on every block for good (docs/KERNELS.md,
     * "Steady-state allocation in decode: C2's trap budget"). The kernels use the sign-extending
     * casts and a mask instead.
     */
    @Test
    void kernelsNeverUseTheZeroExtendingConversions() throws Exception {
        List<String> found = new ArrayList<>();
        int[] operatorReads = {0};
        forEachInstruction((where, e) -> {
            if (e instanceof FieldInstruction f && f.owner().asInternalName().equals("jdk/incubator/vector/VectorOperators")) {
                operatorReads[0]++;
                if (f.name().stringValue().startsWith("ZERO_EXTEND_")) {
                    found.add(where + " reads VectorOperators." + f.name().stringValue());
                }
            }
        });
        assertTrue(operatorReads[0] > 50, "expected VectorOperators reads in the kernel classes, found " + operatorReads[0]);
        assertEquals(List.of(), found, "zero-extending Vector API conversions");
    }

    /**
     * Nor does any kernel method take or return a vector, mask or shuffle: a helper that C2 compiles
     * on its own first may be too large to inline afterwards, and every vector crossing the call is
     * then boxed on the heap (the SiLU helper of {@code swiglu}: 12 KB per decode token in some JVMs,
     * docs/KERNELS.md, "Steady-state allocation in decode: C2's trap budget"). Allowed: the two
     * methods that build shuffle constants during class initialization.
     */
    @Test
    void noKernelMethodPassesVectorsAcrossACall() throws Exception {
        Set<String> allowed = Set.of("dev/kiri/kernels/matmul/VectorDots.pair", "dev/kiri/kernels/matmul/VectorDots.lane");
        List<String> found = new ArrayList<>();
        for (ClassModel cm : kernelClasses()) {
            for (MethodModel m : cm.methods()) {
                String name = cm.thisClass().asInternalName() + "." + m.methodName().stringValue();
                if (m.methodType().stringValue().contains("Ljdk/incubator/vector/") && !allowed.contains(name)) {
                    found.add(name + m.methodType().stringValue());
                }
            }
        }
        assertEquals(List.of(), found, "kernel methods that take or return Vector API values");
    }

    /**
     * Nor does any kernel keep a vector where a loop's sum could start from it: a constant vector is
     * an object on the heap, and as the starting value of a loop's sum it makes the loop's phi an
     * object, so the sum is boxed at every iteration (a Q6_K copy kernel whose accumulator started
     * from a {@code static final} zero allocated 64 bytes per block; docs/KERNELS.md, "Vector
     * constants as loop-carried starting values"). Sums start from {@code zero()}. A vector field
     * must therefore be a {@code static final} operand constant (as {@code WideDots}' are: made once,
     * because as per-call {@code broadcast}s one of them was left unintrinsified in some JVMs): every
     * read of it outside the static initializer is stored straight into a local variable that the
     * method assigns nowhere else. No instance fields or arrays of vectors. Masks and shuffles, used
     * only as operands, are not vectors here. Fails on a sum started from such a constant (checked)
     * or a constant used inline.
     */
    @Test
    void vectorFieldsAreOnlyOperandConstants() throws Exception {
        List<String> found = new ArrayList<>();
        int[] fields = {0}, reads = {0};
        for (ClassModel cm : kernelClasses()) {
            String owner = cm.thisClass().asInternalName();
            for (var f : cm.fields()) {
                fields[0]++;
                String type = f.fieldType().stringValue();
                boolean staticFinal = f.flags().has(java.lang.reflect.AccessFlag.STATIC) && f.flags().has(java.lang.reflect.AccessFlag.FINAL);
                // The element type of an array field counts too ("[[Ljdk/incubator/vector/IntVector;").
                if (isVector(type.replaceFirst("^\\[+", "")) && (type.startsWith("[") || !staticFinal)) {
                    found.add(owner + "." + f.fieldName().stringValue() + " " + type + ": only static final vectors, no arrays");
                }
            }
            for (MethodModel m : cm.methods()) {
                String name = owner + "." + m.methodName().stringValue();
                CodeModel code = m.code().orElse(null);
                if (code == null || m.methodName().stringValue().equals("<clinit>")) continue;
                List<java.lang.classfile.CodeElement> elements = code.elementList().stream()
                        .filter(e -> e instanceof java.lang.classfile.Instruction).toList();
                java.util.Map<Integer, Integer> storesPerSlot = new java.util.HashMap<>();
                for (var e : elements) {
                    if (e instanceof java.lang.classfile.instruction.StoreInstruction st) storesPerSlot.merge(st.slot(), 1, Integer::sum);
                }
                for (int i = 0; i < elements.size(); i++) {
                    if (elements.get(i) instanceof FieldInstruction f
                            && (f.opcode() == java.lang.classfile.Opcode.GETSTATIC || f.opcode() == java.lang.classfile.Opcode.GETFIELD)
                            && isVector(f.typeSymbol().descriptorString())) {
                        reads[0]++;
                        String what = name + " reads " + f.name().stringValue();
                        if (!(i + 1 < elements.size() && elements.get(i + 1) instanceof java.lang.classfile.instruction.StoreInstruction st)) {
                            found.add(what + " without storing it in a local variable");
                        } else if (storesPerSlot.get(st.slot()) != 1) {
                            found.add(what + " into local " + st.slot() + ", which is assigned " + storesPerSlot.get(st.slot()) + " times");
                        }
                    }
                }
            }
        }
        assertTrue(fields[0] > 20, "expected fields in the kernel classes, found " + fields[0]);
        assertTrue(reads[0] >= 2, "expected the 512-bit decode kernels to read their constants, found " + reads[0] + " reads");
        assertEquals(List.of(), found, "vector fields used other than as static final operand constants held in final locals");
    }

    /** Whether a field descriptor names a Vector API vector (not a mask, shuffle or species). */
    private static boolean isVector(String descriptor) {
        return Set.of("Vector", "ByteVector", "ShortVector", "IntVector", "LongVector", "FloatVector", "DoubleVector").stream()
                .anyMatch(v -> descriptor.equals("Ljdk/incubator/vector/" + v + ";"));
    }

    /**
     * And only {@link VectorWidth} asks for the machine's preferred (or largest) species: every
     * width-following kernel takes its species from there, capped at 256 bits by default, so that a
     * process does not run 512-bit Vector API code beside the 256-bit decode kernels (their shared
     * type profiles then made about one JVM in four decode three times slower, docs/KERNELS.md,
     * "One vector width per process").
     */
    @Test
    void onlyVectorWidthReadsThePreferredSpecies() throws Exception {
        List<String> found = new ArrayList<>();
        int[] widthReads = {0};
        forEachInstruction((where, e) -> {
            String what = null;
            if (e instanceof FieldInstruction f && f.owner().asInternalName().startsWith("jdk/incubator/vector/")
                    && (f.name().stringValue().equals("SPECIES_PREFERRED") || f.name().stringValue().equals("SPECIES_MAX"))) {
                what = f.owner().asInternalName() + "." + f.name().stringValue();
            } else if (e instanceof InvokeInstruction inv && inv.owner().asInternalName().startsWith("jdk/incubator/vector/")
                    && (inv.name().stringValue().equals("ofPreferred") || inv.name().stringValue().equals("preferredShape"))) {
                what = inv.owner().asInternalName() + "." + inv.name().stringValue();
            } else if (e instanceof FieldInstruction f && f.owner().asInternalName().equals("dev/kiri/kernels/VectorWidth")) {
                widthReads[0]++;
            }
            if (what != null && !where.startsWith("dev/kiri/kernels/VectorWidth.")
                    && !where.equals("dev/kiri/kernels/VectorKernels.machineBitSize")) {
                found.add(where + " reads " + what);
            }
        });
        assertTrue(widthReads[0] >= 2, "expected VectorKernels and VectorGemm to read VectorWidth, found " + widthReads[0] + " reads");
        assertEquals(List.of(), found, "preferred-species reads outside VectorWidth");
    }

    /**
     * The prefill micro-kernel runs at the machine's full width (512 bits with AVX-512) beside the
     * 256-bit decode kernels, which is safe only while its wider vectors never pass through a Vector
     * API method whose inner virtual calls are shared by the species ({@code fma}, {@code add},
     * {@code mul}, ...: their type profiles would then see both widths, the failure of "One vector
     * width per process" in docs/KERNELS.md). So every method that reads {@code VectorGemm.FK}, the
     * micro-kernel's species, may call only the static factories that take that constant species,
     * {@code lanewise} (the operator form, dispatched at its own call site) and {@code intoArray}
     * (shared code too, but measured harmless and without a fast alternative; docs/KERNELS.md); and
     * the micro-kernels must be among those methods.
     */
    @Test
    void theFullWidthMicroKernelCallsNoSharedVectorMethod() throws Exception {
        Set<String> allowed = Set.of("zero", "fromArray", "broadcast", "lanewise", "intoArray");
        java.util.Map<String, List<String>> callsByMethod = new java.util.HashMap<>();
        Set<String> readers = new java.util.TreeSet<>();
        forEachInstruction((where, e) -> {
            if (e instanceof FieldInstruction f && f.owner().asInternalName().equals("dev/kiri/kernels/matmul/VectorGemm")
                    && f.name().stringValue().equals("FK") && !where.endsWith(".<clinit>")) {
                readers.add(where);
            } else if (e instanceof InvokeInstruction inv && inv.owner().asInternalName().startsWith("jdk/incubator/vector/")) {
                callsByMethod.computeIfAbsent(where, k -> new ArrayList<>())
                        .add(inv.owner().asInternalName() + "." + inv.name().stringValue());
            }
        });
        assertTrue(readers.contains("dev/kiri/kernels/matmul/VectorGemm.kernel")
                && readers.contains("dev/kiri/kernels/matmul/VectorGemm.kernel4"),
                "expected VectorGemm.kernel and kernel4 to take their species from VectorGemm.FK, readers: " + readers);
        List<String> found = new ArrayList<>();
        for (String m : readers) {
            for (String call : callsByMethod.getOrDefault(m, List.of())) {
                String name = call.substring(call.lastIndexOf('.') + 1);
                if (!allowed.contains(name) || !call.startsWith("jdk/incubator/vector/FloatVector.")) found.add(m + " calls " + call);
            }
        }
        assertEquals(List.of(), found, "Vector API calls outside " + allowed + " in the full-width micro-kernel");
    }

    /**
     * The 512-bit decode kernels of the interleaved Q4_0, Q8_0, Q4_K, Q5_K and Q6_K copies ({@code WideDots})
     * run beside the 256-bit kernels, so they must not send their vectors through any Vector API
     * method that the species share: every Vector API call in that class is a static factory with a
     * species argument ({@code zero}, {@code broadcast}, {@code fromArray}, {@code fromMemorySegment},
     * {@code fromValues}, {@code fromLong}) or one of the instance methods that each species class
     * overrides ({@code lanewise} with vector operands only: the {@code int}/{@code long} forms call
     * shared code; {@code blend} with a vector and a mask, for the same reason; {@code reinterpretShape},
     * {@code convertShape}, {@code rearrange}, {@code lane}, {@code reduceLanes} without a mask).
     */
    @Test
    void theWideDecodeKernelsCallNoSharedVectorMethod() throws Exception {
        Set<String> factories = Set.of("zero", "broadcast", "fromArray", "fromMemorySegment", "fromValues", "fromLong");
        Set<String> overridden = Set.of("lanewise", "reinterpretShape", "convertShape", "rearrange", "lane", "blend", "reduceLanes");
        List<String> found = new ArrayList<>();
        Set<String> kernels = new java.util.TreeSet<>();
        forEachInstruction((where, e) -> {
            if (!where.startsWith("dev/kiri/kernels/matmul/WideDots.")) return;
            if (!(e instanceof InvokeInstruction inv) || !inv.owner().asInternalName().startsWith("jdk/incubator/vector/")) return;
            String name = inv.name().stringValue();
            String desc = inv.typeSymbol().descriptorString();
            boolean ok;
            if (inv.opcode() == java.lang.classfile.Opcode.INVOKESTATIC) {
                ok = factories.contains(name) && desc.startsWith("(Ljdk/incubator/vector/VectorSpecies;");
            } else {
                // lanewise(op, int) and lanewise(op, long) are final in the element type's class and call lanewiseShift or broadcast on this.
                ok = overridden.contains(name) && !(name.equals("lanewise") && (desc.contains(";I)") || desc.contains(";J)")))
                        && !(name.equals("blend") && !desc.startsWith("(Ljdk/incubator/vector/Vector;Ljdk/incubator/vector/VectorMask;)"))
                        && !(name.equals("reduceLanes") && !desc.startsWith("(Ljdk/incubator/vector/VectorOperators$Associative;)"));
            }
            if (ok && name.equals("lanewise")) kernels.add(where);
            if (!ok) found.add(where + " calls " + inv.owner().asInternalName() + "." + name + desc);
        });
        assertEquals(Set.of("dev/kiri/kernels/matmul/WideDots.q4_0x8", "dev/kiri/kernels/matmul/WideDots.q8_0x8",
                        "dev/kiri/kernels/matmul/WideDots.q4_Kx", "dev/kiri/kernels/matmul/WideDots.q5_Kx", "dev/kiri/kernels/matmul/WideDots.q6_Kx"),
                kernels, "expected the wide kernels WideDots.q4_0x8, q8_0x8, q4_Kx, q5_Kx and q6_Kx");
        assertEquals(List.of(), found, "Vector API calls in the 512-bit decode kernels that go through methods shared by the species");
    }

    /** Calls {@code visit} with "class.method" and each instruction of every kernel method with code. */
    private static void forEachInstruction(java.util.function.BiConsumer<String, java.lang.classfile.CodeElement> visit) throws Exception {
        for (ClassModel cm : kernelClasses()) {
            for (MethodModel m : cm.methods()) {
                CodeModel code = m.code().orElse(null);
                if (code == null) continue;
                String where = cm.thisClass().asInternalName() + "." + m.methodName().stringValue();
                for (var e : code) visit.accept(where, e);
            }
        }
    }

    /** The compiled classes of package dev.kiri.kernels and below. */
    private static List<ClassModel> kernelClasses() throws Exception {
        Path root = classesRoot();
        List<ClassModel> classes = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root.resolve("dev/kiri/kernels"))) {
            for (Path p : s.filter(p -> p.toString().endsWith(".class")).toList()) classes.add(ClassFile.of().parse(p));
        }
        assertTrue(classes.size() > 10, "expected the kernel classes under " + root + ", found " + classes.size());
        return classes;
    }

    private static Path classesRoot() throws URISyntaxException {
        Path p = Path.of(ImplicitSpeciesTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        // This test's own classes are in test-classes; the kernels beside it in classes.
        Path main = p.resolveSibling("classes");
        return Files.isDirectory(main.resolve("dev/kiri/kernels")) ? main : p;
    }
}
