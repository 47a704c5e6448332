package io.github.glidejava.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.glidejava.core.data.TrainingBatches.Batch;
import io.github.glidejava.core.data.TrainingBatches.State;

class TrainingBatchesTest {
    private static final int N = 10;

    @TempDir
    Path dir;

    private CaptionedImageDataset random;

    @BeforeEach
    void data() throws IOException {
        // wide and tall pictures (so random windows vary) with three alternative captions each
        for (int i = 0; i < N; i++) {
            int w = i % 2 == 0 ? 30 : 12;
            int h = i % 2 == 0 ? 12 : 26;
            TestPictures.write(dir.resolve("p" + i + ".png"), TestPictures.pattern(w, h, i));
            TestPictures.text(dir.resolve("p" + i + ".txt"), "picture " + i + "\nalt " + i + "\nthird " + i);
        }
        random = DatasetLoader.open(dir, DatasetOptions.builder().imageSize(8).crop(DatasetOptions.Crop.RANDOM)
                .flipProbability(0.5).decodeThreads(2).build());
    }

    private static List<Batch> take(TrainingBatches b, int n) {
        List<Batch> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(b.next());
        }
        return out;
    }

    private static void assertSame(Batch a, Batch b) {
        assertArrayEquals(a.indices(), b.indices());
        assertEquals(a.captions(), b.captions());
        assertEquals(a.images(), b.images());
    }

    @Test
    void resumedRunSeesExactlyTheSameBatches() throws IOException {
        List<Batch> whole;
        try (TrainingBatches b = TrainingBatches.builder(random).batchSize(4).seed(7).prefetch(3).build()) {
            whole = take(b, 9); // 36 draws: more than three epochs, batches straddling epoch ends
        }
        for (int stop : new int[] {1, 2, 5}) {
            String saved;
            try (TrainingBatches b = TrainingBatches.builder(random).batchSize(4).seed(7).prefetch(2).threads(1).build()) {
                List<Batch> first = take(b, stop);
                for (int i = 0; i < stop; i++) {
                    assertSame(whole.get(i), first.get(i));
                }
                saved = b.state().toJson();
            }
            State state = State.fromJson(saved);
            try (TrainingBatches b = TrainingBatches.builder(random).batchSize(4).resumeFrom(state).prefetch(0).build()) {
                List<Batch> rest = take(b, whole.size() - stop);
                for (int i = 0; i < rest.size(); i++) {
                    assertSame(whole.get(stop + i), rest.get(i));
                }
            }
        }
    }

    @Test
    void everyEpochVisitsEveryExampleOnceInASeededOrder() {
        try (TrainingBatches b = TrainingBatches.builder(random).batchSize(5).seed(3).build()) {
            List<Integer> seen = new ArrayList<>();
            take(b, 6).forEach(x -> Arrays.stream(x.indices()).forEach(seen::add));
            for (int epoch = 0; epoch < 3; epoch++) {
                Set<Integer> one = new HashSet<>(seen.subList(epoch * N, (epoch + 1) * N));
                assertEquals(N, one.size(), "epoch " + epoch + " visits each example once: " + seen);
                assertEquals(Arrays.stream(b.epochOrder(epoch)).boxed().toList(), seen.subList(epoch * N, (epoch + 1) * N));
            }
            assertNotEquals(seen.subList(0, N), seen.subList(N, 2 * N), "each epoch is shuffled anew");
            assertEquals(new State(3, 3, 0, N), b.state());
        }
        try (TrainingBatches other = TrainingBatches.builder(random).batchSize(5).seed(4).build();
                TrainingBatches same = TrainingBatches.builder(random).batchSize(5).seed(3).build()) {
            assertFalse(Arrays.equals(other.epochOrder(0), same.epochOrder(0)));
        }
    }

    @Test
    void drawsVaryCaptionsWindowsAndFlips() throws IOException {
        Set<String> captions = new HashSet<>();
        Set<List<Float>> views = new HashSet<>();
        int draws = 0;
        try (TrainingBatches b = TrainingBatches.builder(random).batchSize(N).seed(11).build()) {
            for (Batch x : take(b, 20)) {
                assertArrayEquals(new long[] {N, 3, 8, 8}, x.images().shape());
                for (int i = 0; i < N; i++) {
                    if (x.indices()[i] == 0) {
                        captions.add(x.captions().get(i));
                        float[] v = x.images().slice(i).dup().data().asFloat();
                        List<Float> l = new ArrayList<>();
                        for (float f : v) {
                            l.add(f);
                        }
                        views.add(l);
                        draws++;
                    }
                    assertTrue(random.captions(x.indices()[i]).contains(x.captions().get(i)));
                }
            }
        }
        assertEquals(20, draws);
        assertEquals(Set.of("picture 0", "alt 0", "third 0"), captions);
        assertTrue(views.size() > 5, "random windows and flips give different views: " + views.size());
    }

    @Test
    void centerCropWithCertainFlipIsTheMirroredExample() throws IOException {
        CaptionedImageDataset center = DatasetLoader.open(dir, DatasetOptions.builder().imageSize(8).flipProbability(1.0).build());
        try (TrainingBatches b = TrainingBatches.builder(center).batchSize(3).seed(1).build()) {
            Batch x = b.next();
            float[] got = x.images().slice(0).dup().data().asFloat();
            float[] plain = center.get(x.indices()[0]).image();
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 8; y++) {
                    for (int i = 0; i < 8; i++) {
                        assertEquals(plain[(c * 8 + y) * 8 + 7 - i], got[(c * 8 + y) * 8 + i]);
                    }
                }
            }
        }
    }

    @Test
    void batchLargerThanTheDataSet() {
        try (TrainingBatches b = TrainingBatches.builder(random).batchSize(25).seed(5).build()) {
            Batch x = b.next();
            assertEquals(25, x.indices().length);
            assertEquals(new State(5, 2, 5, N), b.state());
        }
    }

    @Test
    void stateJsonAndResumeChecks() throws IOException {
        State s = new State(-9, 4, 3, N);
        assertEquals(s, State.fromJson(s.toJson()));
        IOException bad = assertThrows(IOException.class, () -> State.fromJson("{\"seed\": 1, \"epoch\": -2, \"position\": 0, \"datasetSize\": 3}"));
        assertTrue(bad.getMessage().contains("not a training batch state"), bad.getMessage());
        assertThrows(IOException.class, () -> State.fromJson("[1, 2"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainingBatches.builder(random).batchSize(2).resumeFrom(new State(1, 0, 0, N + 1)).build());
        assertTrue(e.getMessage().contains("data set of " + (N + 1) + " examples"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> TrainingBatches.builder(random).batchSize(2).seed(2).resumeFrom(new State(1, 0, 0, N)).build());
        assertTrue(e.getMessage().contains("seed 2 differs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> TrainingBatches.builder(random).build());
        assertTrue(e.getMessage().contains("batch size is not set"), e.getMessage());
        TrainingBatches closed = TrainingBatches.builder(random).batchSize(2).build();
        closed.close();
        assertThrows(IllegalStateException.class, closed::next);
    }
}
