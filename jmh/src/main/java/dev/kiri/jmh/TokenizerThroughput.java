package dev.kiri.jmh;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * Tokenizer throughput measured in thread CPU time rather than wall time, for machines shared
 * with other work where JMH's wall-clock scores swing: runs {@link TokenizerBenchmark}'s
 * {@code encode}, {@code decode} and {@code streamDecode} on one thread until each has used
 * {@code seconds} of CPU after a warm-up of half that, and prints MB of UTF-8 per CPU second.
 *
 * <pre>java -Dkiri.fixtures=../shared/fixtures -cp jmh/target/benchmarks.jar dev.kiri.jmh.TokenizerThroughput [seconds]</pre>
 */
public final class TokenizerThroughput {
    private TokenizerThroughput() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        System.out.printf("%-10s %-4s %12s %12s %12s%n", "vocab", "lang", "encode MB/s", "decode MB/s", "stream MB/s");
        for (String vocab : new String[] {"llama-spm", "llama-bpe"}) {
            for (String lang : new String[] {"en", "ja", "ko"}) {
                TokenizerBenchmark b = new TokenizerBenchmark();
                b.vocab = vocab;
                b.lang = lang;
                b.setUp();
                double bytes = b.textBytes();
                double[] rates = new double[3];
                for (int which = 0; which < 3; which++) {
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
                System.out.printf("%-10s %-4s %12.1f %12.1f %12.1f%n", vocab, lang, rates[0], rates[1], rates[2]);
            }
        }
    }

    private static Object run(TokenizerBenchmark b, int which) {
        return switch (which) {
            case 0 -> b.encode();
            case 1 -> b.decode();
            default -> b.streamDecode();
        };
    }
}
