package io.github.glidejava.nn.training;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * Runs ND4J's native ops on one OpenMP thread while a test class runs, and restores the configured count after.
 * The training tests execute thousands of tiny ops; two threads gain nothing on them, and on a shared (loaded)
 * machine each op's OpenMP barrier spins while the other thread waits to be scheduled: measured 10x more CPU time
 * (140 s vs 14 s for the same steps of a tiny U-Net) at load 7 on 2 cores.
 */
final class NativeThreads {
    private NativeThreads() {
    }

    static void single() {
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(1);
    }

    static void restore() {
        NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(Nd4j.getEnvironment().maxThreads());
    }
}
