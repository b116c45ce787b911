package dev.kiri.runtime.cli;

import java.io.PrintWriter;
import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

import dev.kiri.gguf.GgufArray;
import dev.kiri.gguf.GgufFile;
import dev.kiri.gguf.GgufTensor;
import dev.kiri.gguf.GgufValue;
import dev.kiri.gguf.GgufValueType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code kiri inspect FILE}: the header of a GGUF file (or archive): version, metadata, tensor table. */
@Command(name = "inspect",
        description = "Print a GGUF file's version, metadata and tensor table (a .tar/.tar.gz/.tar.xz/.zip holding one works too).")
final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "the .gguf file, the first shard of a split model, or an archive")
    Path file;

    @Option(names = "--array-items", paramLabel = "N", defaultValue = "8",
            description = "array elements shown before the rest is abbreviated (default: ${DEFAULT-VALUE})")
    int arrayItems;

    @Option(names = "--string-chars", paramLabel = "N", defaultValue = "120",
            description = "characters of a long string shown before it is abbreviated (default: ${DEFAULT-VALUE})")
    int stringChars;

    @Option(names = "--verbose", description = "print the stack trace of an error")
    boolean verbose;

    @Override
    public Integer call() {
        return Cli.run(spec, verbose, () -> {
            PrintWriter out = spec.commandLine().getOut();
            try (GgufFile f = GgufFile.open(file)) {
                print(f, out);
            }
            out.flush();
            return 0;
        });
    }

    private void print(GgufFile f, PrintWriter out) {
        out.printf(Locale.ROOT, "file       %s%n", f.path());
        out.printf(Locale.ROOT, "format     GGUF v%d, alignment %d, %s bytes in %d file%s%n", f.version(), f.alignment(),
                num(f.fileSize()), f.shards().size(), f.shards().size() == 1 ? "" : "s (split model)");

        Map<String, GgufValue> meta = f.metadata().asMap();
        out.printf(Locale.ROOT, "%nmetadata   %d keys%n", meta.size());
        int keyWidth = meta.keySet().stream().mapToInt(String::length).max().orElse(0);
        for (Map.Entry<String, GgufValue> e : meta.entrySet()) {
            GgufValue v = e.getValue();
            String type = v.type() == GgufValueType.ARRAY ? arrayType((GgufArray) v.value()) : v.type().name();
            out.printf(Locale.ROOT, "  %-" + keyWidth + "s  %-16s %s%n", e.getKey(), type, value(v.type(), v.value()));
        }

        out.printf(Locale.ROOT, "%ntensors    %d%n", f.tensors().size());
        int nameWidth = Math.max(4, f.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(0));
        String row = "  %-" + nameWidth + "s  %-7s %-22s %15s%n";
        out.printf(Locale.ROOT, row, "name", "type", "shape", "bytes");
        long elements = 0;
        long bytes = 0;
        Map<String, long[]> byType = new TreeMap<>();
        for (GgufTensor t : f.tensors()) {
            out.printf(Locale.ROOT, row, t.name(), t.type().ggmlName(), Arrays.toString(t.shape()), num(t.byteSize()));
            elements += t.elementCount();
            bytes += t.byteSize();
            long[] agg = byType.computeIfAbsent(t.type().ggmlName(), k -> new long[3]);
            agg[0]++;
            agg[1] += t.elementCount();
            agg[2] += t.byteSize();
        }
        out.printf(Locale.ROOT, row, "total", "", num(elements) + " elements", num(bytes));
        for (Map.Entry<String, long[]> e : byType.entrySet()) {
            long[] a = e.getValue();
            out.printf(Locale.ROOT, "  %-7s %4d tensors %18s elements %15s bytes  %6.2f bits/element%n", e.getKey(), a[0],
                    num(a[1]), num(a[2]), a[1] == 0 ? 0.0 : 8.0 * a[2] / a[1]);
        }
    }

    private static String arrayType(GgufArray a) {
        return a.elementType().name() + "[" + a.length() + "]";
    }

    private String value(GgufValueType type, Object v) {
        return switch (type) {
            case STRING -> quote((String) v);
            case UINT64 -> Long.toUnsignedString((Long) v);
            case ARRAY -> array((GgufArray) v);
            default -> String.valueOf(v);
        };
    }

    private String array(GgufArray a) {
        int n = a.length();
        int shown = Math.min(n, arrayItems);
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shown; i++) {
            if (i > 0) sb.append(", ");
            Object item = Array.get(a.values(), i);
            sb.append(switch (a.elementType()) {
                case STRING -> quote((String) item);
                case ARRAY -> array((GgufArray) item);
                case UINT8, UINT16, UINT32, UINT64 -> Long.toUnsignedString(a.getLong(i));
                default -> String.valueOf(item);
            });
        }
        if (n > shown) sb.append(shown > 0 ? ", " : "").append("... ").append(n - shown).append(" more");
        return sb.append(']').toString();
    }

    /** A string in quotes with control characters escaped, cut after {@code stringChars} characters. */
    private String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        int limit = Math.min(s.length(), stringChars);
        for (int i = 0; i < limit; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20 || c == 0x7F) sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
        if (s.length() > limit) sb.append(" ... (").append(s.length()).append(" chars)");
        return sb.toString();
    }

    private static String num(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }
}
