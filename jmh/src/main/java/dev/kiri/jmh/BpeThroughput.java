package dev.kiri.jmh;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Byte-level BPE throughput measured in thread CPU time rather than wall time, for machines
 * shared with other work where JMH's wall-clock scores swing: runs {@link BpeEncodeBenchmark}'s
 * {@code split} and {@code encode} on one thread until each has used {@code seconds} of CPU
 * after a warm-up, and prints MB of UTF-8 per CPU second.
 *
 * <pre>java -cp jmh/target/benchmarks.jar dev.kiri.jmh.BpeThroughput [fixtures] [seconds]</pre>
 */
public final class BpeThroughput {
    private BpeThroughput() {
    }

    public static void main(String[] args) throws Exception {
        String fixtures = args.length > 0 ? args[0] : "../shared/fixtures";
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        System.out.printf("%-10s %-4s %10s %10s%n", "vocab", "lang", "split MB/s", "encode MB/s");
        for (String vocab : new String[] {"llama-bpe", "qwen2", "gpt-2"}) {
            for (String lang : new String[] {"en", "ja", "ko"}) {
                BpeEncodeBenchmark b = new BpeEncodeBenchmark();
                b.vocab = vocab;
                b.lang = lang;
                b.fixtures = fixtures;
                b.setUp();
                double bytes = b.textBytes();
                double[] rates = new double[2];
                for (int which = 0; which < 2; which++) {
                    long end = mx.getCurrentThreadCpuTime() + (long) (seconds * 0.5e9);
                    while (mx.getCurrentThreadCpuTime() < end) run(b, which); // warm-up
                    long start = mx.getCurrentThreadCpuTime();
                    int calls = 0;
                    while (mx.getCurrentThreadCpuTime() - start < seconds * 1e9) {
                        run(b, which);
                        calls++;
                    }
                    double cpu = (mx.getCurrentThreadCpuTime() - start) / 1e9;
                    rates[which] = calls * bytes / cpu / 1e6;
                }
                System.out.printf("%-10s %-4s %10.1f %10.1f%n", vocab, lang, rates[0], rates[1]);
            }
        }
    }

    private static long run(BpeEncodeBenchmark b, int which) {
        return which == 0 ? b.split() : b.encode();
    }
}
