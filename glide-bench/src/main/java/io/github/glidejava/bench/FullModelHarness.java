package io.github.glidejava.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import org.nd4j.linalg.ops.transforms.Transforms;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.nn.ops.EagerOps;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetGraph;
import io.github.glidejava.nn.unet.UNetInputs;

/**
 * Full-size forward timings of GLIDE's models with random weights: the {@code base} preset (385M parameters) at
 * batch 2, 64x64 (one classifier-free-guidance step) and the {@code upsample} preset (398M) at batch 1, 256x256.
 * Prints, per preset: the FLOPs of the forward counted from the model's own shapes ({@link FlopCounter}), the median
 * time of several eager forwards after warm-up, the achieved GFLOP/s, a profile of one more forward by operation
 * category and by block ({@link TimingOps}; its executed FLOPs cross-check the count), and peak memory.
 *
 * <pre>
 * java -Xmx8g -cp glide-bench/target/benchmarks.jar io.github.glidejava.bench.FullModelHarness \
 *      [--preset base,upsample] [--runs 5] [--warmup 1] [--backend eager|samediff|both] [--no-profile] [--blocks]
 * </pre>
 */
public final class FullModelHarness {
    static {
        GlideBackend.init();
    }

    private FullModelHarness() {
    }

    static final class Options {
        List<String> presets = List.of("base", "upsample");
        int runs = 5;
        int warmup = 1;
        boolean eager = true;
        boolean sameDiff = false;
        boolean profile = true;
        boolean blocks = false;
        boolean textCached = false;
        boolean nd4jKernels = true;
        boolean fastKernels = true;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--preset":
                        o.presets = Arrays.asList(value(args, ++i, a).split(","));
                        break;
                    case "--runs":
                        o.runs = Integer.parseInt(value(args, ++i, a));
                        break;
                    case "--warmup":
                        o.warmup = Integer.parseInt(value(args, ++i, a));
                        break;
                    case "--backend": {
                        String b = value(args, ++i, a);
                        o.eager = b.equals("eager") || b.equals("both");
                        o.sameDiff = b.equals("samediff") || b.equals("both");
                        if (!o.eager && !o.sameDiff) {
                            throw new IllegalArgumentException("--backend must be eager, samediff or both, got " + b);
                        }
                        break;
                    }
                    case "--no-profile":
                        o.profile = false;
                        break;
                    case "--blocks":
                        o.blocks = true;
                        break;
                    case "--text-cached":
                        o.textCached = true;
                        break;
                    case "--kernels": {
                        String k = value(args, ++i, a);
                        o.nd4jKernels = k.equals("nd4j") || k.equals("both");
                        o.fastKernels = k.equals("fast") || k.equals("both");
                        if (!o.nd4jKernels && !o.fastKernels) {
                            throw new IllegalArgumentException("--kernels must be nd4j, fast or both, got " + k);
                        }
                        break;
                    }
                    default:
                        throw new IllegalArgumentException("unknown option " + a + "; options: --preset base,upsample"
                                + " --runs N --warmup N --backend eager|samediff|both --kernels nd4j|fast|both --no-profile --blocks"
                                + " --text-cached");
                }
            }
            if (o.runs < 1 || o.warmup < 0) {
                throw new IllegalArgumentException("--runs must be >= 1 and --warmup >= 0");
            }
            return o;
        }

        private static String value(String[] args, int i, String name) {
            if (i >= args.length) {
                throw new IllegalArgumentException(name + " needs a value");
            }
            return args[i];
        }
    }

    public static void main(String[] args) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        System.out.println("machine: " + MachineInfo.describe());
        System.out.println("threads: OMP_NUM_THREADS=" + System.getenv("OMP_NUM_THREADS") + ", max heap "
                + String.format(Locale.ROOT, "%.1f GiB", MachineInfo.gib(Runtime.getRuntime().maxMemory())));
        for (String p : o.presets) {
            run(p.trim(), o);
        }
    }

    static void run(String preset, Options o) {
        GlideModelConfig c = GlideModelConfig.preset(preset);
        int batch = c.superRes() ? 1 : 2;
        int size = c.imageSize();
        Text2ImUNet model = Text2ImUNet.create(c);
        System.out.printf(Locale.ROOT, "%n=== %s (%s), batch %d, %dx%d ===%n", preset, c.modelClass(), batch, size, size);

        FlopCounter flops = countFlops(model, batch);
        long convLinear = flops.flops(FlopCounter.Kind.CONV) + flops.flops(FlopCounter.Kind.LINEAR);
        System.out.printf(Locale.ROOT, "FLOPs (from the model's shapes): conv %.1f G + linear %.1f G = %.1f GFLOP;"
                + " attention products %.1f G; resize %.2f G; total %.1f GFLOP%n",
                g(flops.flops(FlopCounter.Kind.CONV)), g(flops.flops(FlopCounter.Kind.LINEAR)), g(convLinear),
                g(flops.flops(FlopCounter.Kind.ATTENTION)), g(flops.flops(FlopCounter.Kind.RESIZE)),
                g(flops.totalFlops()));

        long t0 = System.nanoTime();
        model.setParameters(RandomWeights.of(model.parameterSpecs(), 42));
        System.out.printf(Locale.ROOT, "parameters: %.1f M (random, %.1f s to create)%n",
                model.parameters().numParameters() / 1e6, (System.nanoTime() - t0) / 1e9);
        UNetInputs<INDArray> in = inputs(c, batch, size);

        if (o.eager) {
            // the eager back-end with ND4J's ops only and with oneDNN's kernels (EagerOps' default where
            // available), interleaved run by run so both see the same machine load
            Map<String, java.util.function.Supplier<INDArray>> variants = new LinkedHashMap<>();
            if (o.nd4jKernels) {
                variants.put("eager", () -> {
                    EagerOps e = new EagerOps(model.parameters()::get, false);
                    return e.run(() -> model.forward(e, in));
                });
            }
            if (o.fastKernels) {
                variants.put("eager+sgemm", () -> {
                    EagerOps e = new EagerOps(model.parameters()::get, true);
                    return e.run(() -> model.forward(e, in));
                });
            }
            MachineInfo.resetPeakHeap();
            Map<String, List<Double>> times = new LinkedHashMap<>();
            Map<String, INDArray> outputs = new LinkedHashMap<>();
            variants.keySet().forEach(k -> times.put(k, new ArrayList<>()));
            double load0 = MachineInfo.loadAverage();
            for (int i = 0; i < o.warmup + o.runs; i++) {
                for (Map.Entry<String, java.util.function.Supplier<INDArray>> v : variants.entrySet()) {
                    long s = System.nanoTime();
                    INDArray out = v.getValue().get();
                    double secs = (System.nanoTime() - s) / 1e9;
                    if (i == 0) {
                        checkOutput(out, batch, size);
                        outputs.put(v.getKey(), out);
                    }
                    if (i >= o.warmup) {
                        times.get(v.getKey()).add(secs);
                    }
                    System.out.printf(Locale.ROOT, "  %s forward %d%s: %.2f s%n", v.getKey(), i + 1,
                            i < o.warmup ? " (warm-up)" : "", secs);
                }
            }
            times.forEach((k, t) -> report(k, t, flops, convLinear, load0));
            if (outputs.size() == 2) {
                INDArray a = outputs.get("eager"), b = outputs.get("eager+sgemm");
                double maxDiff = Transforms.abs(a.sub(b), false).maxNumber().doubleValue();
                double scale = Transforms.abs(a, true).maxNumber().doubleValue();
                System.out.printf(Locale.ROOT, "eager vs eager+sgemm outputs: max |diff| %.3g (max |out| %.3g)%n",
                        maxDiff, scale);
            }
            System.out.println("memory: " + MachineInfo.memory());
            if (o.textCached && c.xfWidth() > 0) {
                var text = model.encodeText(in.tokens(), in.mask());
                List<Double> cached = new ArrayList<>();
                for (int i = 0; i < o.runs; i++) {
                    long s = System.nanoTime();
                    model.forward(in, text);
                    cached.add((System.nanoTime() - s) / 1e9);
                }
                System.out.printf(Locale.ROOT, "eager forward with the text encoding cached: median %.2f s %s%n",
                        median(cached), fmt(cached));
            }
            if (o.profile) {
                if (o.nd4jKernels) {
                    profile("eager", model, in, flops, o.blocks, false);
                }
                if (o.fastKernels) {
                    profile("eager+sgemm", model, in, flops, o.blocks, true);
                }
            }
        }
        if (o.sameDiff) {
            long b0 = System.nanoTime();
            UNetGraph graph = Quiet.run(() -> UNetGraph.builder(model).batch(batch).imageSize(size, size).build());
            System.out.printf(Locale.ROOT, "SameDiff graph: %d ops, built in %.1f s%n", graph.sameDiff().ops().length,
                    (System.nanoTime() - b0) / 1e9);
            List<Double> times = new ArrayList<>();
            double load0 = MachineInfo.loadAverage();
            for (int i = 0; i < o.warmup + o.runs; i++) {
                long s = System.nanoTime();
                INDArray out = graph.forward(in);
                double secs = (System.nanoTime() - s) / 1e9;
                if (i == 0) {
                    checkOutput(out, batch, size);
                }
                if (i >= o.warmup) {
                    times.add(secs);
                }
                System.out.printf(Locale.ROOT, "  SameDiff forward %d%s: %.2f s%n", i + 1,
                        i < o.warmup ? " (warm-up)" : "", secs);
            }
            report("SameDiff", times, flops, convLinear, load0);
            System.out.println("memory: " + MachineInfo.memory());
        }
    }

    /** Runs the forward symbolically on shapes only. */
    static FlopCounter countFlops(Text2ImUNet model, int batch) {
        GlideModelConfig c = model.config();
        int size = c.imageSize();
        FlopCounter fc = new FlopCounter(model.parameterSpecs());
        UNetInputs<FlopCounter.Sym> in = UNetInputs.of(fc.input(batch, 3, size, size), fc.input(batch),
                c.xfWidth() > 0 ? fc.input(batch, c.textCtx()) : null, c.xfPadding() ? fc.input(batch, c.textCtx()) : null);
        if (c.superRes()) {
            in = in.withLowRes(fc.input(batch, 3, size / 4, size / 4));
        }
        if (c.inpaint()) {
            in = in.withInpaint(fc.input(batch, 3, size, size), fc.input(batch, 1, size, size));
        }
        FlopCounter.Sym out = model.forward(fc, in);
        if (!Arrays.equals(out.shape(), new long[] {batch, c.outChannels(), size, size})) {
            throw new IllegalStateException("symbolic forward gave " + Arrays.toString(out.shape()));
        }
        return fc;
    }

    static UNetInputs<INDArray> inputs(GlideModelConfig c, int batch, int size) {
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, 3, size, size);
        INDArray t = Nd4j.createFromArray(java.util.stream.LongStream.range(0, batch).map(i -> 999 - 300 * i).toArray());
        INDArray tokens = null;
        INDArray mask = null;
        if (c.xfWidth() > 0) {
            long[][] tok = new long[batch][c.textCtx()];
            boolean[][] m = new boolean[batch][c.textCtx()];
            java.util.Random r = new java.util.Random(3);
            for (int i = 0; i < batch; i++) {
                int len = i == batch - 1 && batch > 1 ? 0 : 12;   // with batch 2 the second row is the empty prompt
                for (int j = 0; j < c.textCtx(); j++) {
                    m[i][j] = j < len;
                    tok[i][j] = j < len ? r.nextInt(c.vocabSize()) : Math.min(50256, c.vocabSize() - 1);
                }
            }
            tokens = Nd4j.createFromArray(tok);
            mask = Nd4j.createFromArray(m);
        }
        UNetInputs<INDArray> in = UNetInputs.of(x, t, tokens, mask);
        if (c.superRes()) {
            in = in.withLowRes(Nd4j.rand(DataType.FLOAT, batch, 3, size / 4, size / 4).muli(2).subi(1));
        }
        return in;
    }

    private static void checkOutput(INDArray out, int batch, int size) {
        if (!Arrays.equals(out.shape(), new long[] {batch, 6, size, size})) {
            throw new IllegalStateException("forward gave shape " + Arrays.toString(out.shape()));
        }
        double s = out.sumNumber().doubleValue();
        if (!Double.isFinite(s)) {
            throw new IllegalStateException("forward output is not finite: " + s);
        }
    }

    private static void report(String backend, List<Double> times, FlopCounter flops, long convLinear, double load0) {
        double med = median(times);
        System.out.printf(Locale.ROOT, "%-12s forward: median %.2f s over %d runs %s; %.0f GFLOP/s (conv+linear),"
                + " %.0f GFLOP/s (all products); load average %.1f -> %.1f%n", backend, med, times.size(), fmt(times),
                g(convLinear) / med, g(flops.totalFlops()) / med, load0, MachineInfo.loadAverage());
    }

    /** One more eager forward through {@link TimingOps}: time by operation category and by block. */
    static void profile(String name, Text2ImUNet model, UNetInputs<INDArray> in, FlopCounter flops, boolean blocks,
            boolean fast) {
        EagerOps eager = new EagerOps(model.parameters()::get, fast);
        TimingOps timing = new TimingOps(eager);
        long s = System.nanoTime();
        eager.run(() -> model.forward(timing, in));
        double total = (System.nanoTime() - s) / 1e9;
        System.out.printf(Locale.ROOT, "profile of one %s forward (%.2f s wall, load %.1f), by category:%n", name, total,
                MachineInfo.loadAverage());
        long executedConv = 0, executedLinear = 0, executedAttention = 0;
        List<Map.Entry<String, long[]>> cats = new ArrayList<>(timing.byCategory().entrySet());
        cats.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
        for (Map.Entry<String, long[]> e : cats) {
            long[] v = e.getValue();
            String rate = v[2] == 0 ? "" : String.format(Locale.ROOT, "  %7.1f GFLOP  %5.0f GFLOP/s", g(v[2]),
                    v[2] / (double) v[0]);
            System.out.printf(Locale.ROOT, "  %-30s %8.2f s %5.1f%% %6d calls%s%n", e.getKey(), v[0] / 1e9,
                    100 * v[0] / 1e9 / total, v[1], rate);
            if (e.getKey().startsWith("conv")) {
                executedConv += v[2];
            } else if (e.getKey().equals("linear")) {
                executedLinear += v[2];
            } else if (e.getKey().equals("attention matmul")) {
                executedAttention += v[2];
            }
        }
        System.out.println("  top operations:");
        List<Map.Entry<String, long[]>> opsByTime = new ArrayList<>(timing.byOp().entrySet());
        opsByTime.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
        for (Map.Entry<String, long[]> e : opsByTime.subList(0, Math.min(14, opsByTime.size()))) {
            long[] v = e.getValue();
            System.out.printf(Locale.ROOT, "    %-20s %8.2f s %6d calls  %8.1f M elements out  %5.2f ns/element%n",
                    e.getKey(), v[0] / 1e9, v[1], v[2] / 1e6, v[2] == 0 ? 0 : v[0] / (double) v[2]);
        }
        long counted = flops.flops(FlopCounter.Kind.ATTENTION) + flops.flops(FlopCounter.Kind.RESIZE);
        System.out.printf(Locale.ROOT, "  cross-check of executed vs counted FLOPs: conv %.3f / %.3f G, linear %.3f /"
                + " %.3f G, attention+resize %.3f / %.3f G%n", g(executedConv), g(flops.flops(FlopCounter.Kind.CONV)),
                g(executedLinear), g(flops.flops(FlopCounter.Kind.LINEAR)), g(executedAttention), g(counted));
        // blocks: grouped by kind, and each one if asked
        Map<String, double[]> groups = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : timing.byBlock().entrySet()) {
            String block = e.getKey();
            String group = block.startsWith("resblocks_") ? "text transformer layers"
                    : block.startsWith("input_blocks") ? "input_blocks" : block.startsWith("output_blocks") ? "output_blocks"
                    : block;
            double[] acc = groups.computeIfAbsent(group, k -> new double[2]);
            acc[0] += e.getValue() / 1e9;
            EnumMap<FlopCounter.Kind, Long> f = flops.flopsByBlock().get(block);
            acc[1] += f == null ? 0 : f.values().stream().mapToLong(Long::longValue).sum();
        }
        System.out.println("by block:");
        groups.forEach((k, v) -> System.out.printf(Locale.ROOT, "  %-30s %8.2f s %5.1f%%  %7.1f GFLOP%n", k, v[0],
                100 * v[0] / total, g((long) v[1])));
        if (blocks) {
            for (Map.Entry<String, Long> e : timing.byBlock().entrySet()) {
                EnumMap<FlopCounter.Kind, Long> f = flops.flopsByBlock().get(e.getKey());
                long fl = f == null ? 0 : f.values().stream().mapToLong(Long::longValue).sum();
                System.out.printf(Locale.ROOT, "    %-28s %8.3f s  %7.2f GFLOP  %5.0f GFLOP/s%n", e.getKey(),
                        e.getValue() / 1e9, g(fl), fl / (double) e.getValue());
            }
        }
    }

    static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(Double::compare);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static String fmt(List<Double> xs) {
        StringBuilder sb = new StringBuilder("[");
        for (double x : xs) {
            sb.append(sb.length() == 1 ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", x));
        }
        return sb.append("]").toString();
    }

    private static double g(long flops) {
        return flops / 1e9;
    }
}
