package io.github.glidejava.diffusion;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * glide-text2im's {@code space_timesteps}: which timesteps of the original process a respaced (faster) process
 * keeps. Results match the reference exactly: Python's round-half-to-even, float accumulation of the section index,
 * the first {@code T % sections} sections one step longer, "ddimN" and "fast27".
 */
public final class TimestepRespacing {
    private TimestepRespacing() {
    }

    /**
     * Parses a respacing string and returns the kept timesteps in ascending order.
     *
     * @param numTimesteps  steps of the original process
     * @param sectionCounts "N" (N evenly spaced steps), "a,b,c" (per-section counts over equal sections), "ddimN"
     *                      (the DDIM paper's integer stride), "fast27"; {@code null} or blank keeps every step
     * @throws IllegalArgumentException for malformed input or counts that cannot be realised (the cases where the
     *                                  reference raises ValueError)
     */
    public static int[] spaceTimesteps(int numTimesteps, String sectionCounts) {
        if (numTimesteps < 1) {
            throw new IllegalArgumentException("number of diffusion steps must be >= 1, got " + numTimesteps);
        }
        if (sectionCounts == null || sectionCounts.isBlank()) {
            int[] all = new int[numTimesteps];
            for (int i = 0; i < numTimesteps; i++) {
                all[i] = i;
            }
            return all;
        }
        String s = sectionCounts.trim();
        if (s.startsWith("ddim")) {
            int desired = parseCount(s.substring(4), sectionCounts);
            for (int stride = 1; stride < numTimesteps; stride++) {
                if ((numTimesteps + stride - 1) / stride == desired) {
                    List<Integer> steps = new ArrayList<>();
                    for (int t = 0; t < numTimesteps; t++) {
                        if (t % stride == 0) {
                            steps.add(t);
                        }
                    }
                    return toArray(new TreeSet<>(steps), sectionCounts);
                }
            }
            throw new IllegalArgumentException("timestep respacing '" + sectionCounts + "': cannot create exactly "
                    + desired + " steps from " + numTimesteps + " with an integer stride");
        }
        if (s.equals("fast27")) {
            TreeSet<Integer> steps = sections(numTimesteps, new int[] {10, 10, 3, 2, 2}, sectionCounts);
            // glide: drop the noisiest step T-1 and use T-3 instead (fewer DDIM artifacts)
            if (!steps.remove(numTimesteps - 1)) {
                throw new IllegalArgumentException("timestep respacing 'fast27' needs timestep " + (numTimesteps - 1)
                        + " in its base set for " + numTimesteps + " steps");
            }
            steps.add(numTimesteps - 3);
            return toArray(steps, sectionCounts);
        }
        String[] parts = s.split(",", -1);
        int[] counts = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            counts[i] = parseCount(parts[i], sectionCounts);
        }
        return toArray(sections(numTimesteps, counts, sectionCounts), sectionCounts);
    }

    /** {@code space_timesteps} with explicit per-section counts. */
    public static int[] spaceTimesteps(int numTimesteps, int... sectionCounts) {
        if (numTimesteps < 1) {
            throw new IllegalArgumentException("number of diffusion steps must be >= 1, got " + numTimesteps);
        }
        String label = java.util.Arrays.toString(sectionCounts);
        for (int c : sectionCounts) {
            if (c < 0) {
                throw new IllegalArgumentException("timestep respacing " + label + ": section counts must be >= 0");
            }
        }
        return toArray(sections(numTimesteps, sectionCounts, label), label);
    }

    private static TreeSet<Integer> sections(int numTimesteps, int[] counts, String label) {
        if (counts.length == 0) {
            throw new IllegalArgumentException("timestep respacing '" + label + "': no section counts");
        }
        int sizePer = numTimesteps / counts.length;
        int extra = numTimesteps % counts.length;
        int startIdx = 0;
        TreeSet<Integer> all = new TreeSet<>();
        for (int i = 0; i < counts.length; i++) {
            int size = sizePer + (i < extra ? 1 : 0);
            int count = counts[i];
            if (size < count) {
                throw new IllegalArgumentException("timestep respacing '" + label + "': cannot divide section " + i
                        + " of " + size + " steps into " + count);
            }
            double fracStride = count <= 1 ? 1 : (double) (size - 1) / (count - 1);
            double curIdx = 0.0;
            for (int k = 0; k < count; k++) {
                all.add(startIdx + (int) Math.rint(curIdx)); // Python round(): half to even
                curIdx += fracStride;
            }
            startIdx += size;
        }
        return all;
    }

    private static int parseCount(String text, String whole) {
        String t = text.trim();
        try {
            int v = Integer.parseInt(t);
            if (v < 0) {
                throw new IllegalArgumentException("timestep respacing '" + whole + "': counts must be >= 0, got " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("timestep respacing '" + whole + "': '" + t
                    + "' is not an integer; expected \"N\", \"a,b,c\", \"ddimN\" or \"fast27\"", e);
        }
    }

    private static int[] toArray(TreeSet<Integer> steps, String label) {
        if (steps.isEmpty()) {
            throw new IllegalArgumentException("timestep respacing '" + label + "' keeps no timesteps");
        }
        return steps.stream().mapToInt(Integer::intValue).toArray();
    }
}
