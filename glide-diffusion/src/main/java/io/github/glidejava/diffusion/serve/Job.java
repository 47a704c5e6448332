package io.github.glidejava.diffusion.serve;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import io.github.glidejava.core.image.ImageTensors;
import io.github.glidejava.core.image.PngFiles;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.GlideResult;
import io.github.glidejava.diffusion.pipeline.PipelineStage;
import io.github.glidejava.diffusion.sampling.SamplingCancelledException;
import io.github.glidejava.diffusion.sampling.StepInfo;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * One submitted job: its request, its state (queued, running, done, failed, cancelled), progress, latest preview
 * and result PNGs. Runs on its model's worker thread; everything else reads it from request threads, so the state
 * is guarded by the job's monitor. Listeners (the events streams) get every change as a named event.
 */
final class Job implements Runnable {
    enum State {
        QUEUED, RUNNING, DONE, FAILED, CANCELLED;

        String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        boolean terminal() {
            return this == DONE || this == FAILED || this == CANCELLED;
        }
    }

    /** A change to tell listeners: {@code name} is the server-sent event's name. */
    record Event(String name, Map<String, Object> data) {
    }

    /** Progress events closer together than this are dropped (the last step of a stage always goes out). */
    private static final long PROGRESS_INTERVAL_NANOS = 100_000_000L;

    final String id;
    final JobRequest request;
    private final long createdMillis = System.currentTimeMillis();
    private final int previewEvery;
    private final GlidePipeline pipeline;
    private final int stages;
    private final List<Consumer<Event>> listeners = new ArrayList<>();

    private State state = State.QUEUED;
    private volatile boolean cancelRequested;
    private long startNanos;
    private long endNanos;
    private Map<String, Object> progress;
    private long lastProgressNanos;
    private byte[] preview;
    private int previews;
    private List<byte[]> images = List.of();
    private Map<String, Object> parameters;
    private String error;

    /** Prepares the job's pipeline (settings only: the loaded models are shared). */
    Job(String id, JobRequest request, int previewEvery) {
        this.id = id;
        this.request = request;
        this.previewEvery = previewEvery;
        GlidePipeline base = request.model().pipeline();
        GlidePipeline.Builder b = base.toBuilder().seed(request.seed()).imagesPerPrompt(request.numImages())
                .progressListener(this::onProgress).stepCallback(this::onStep);
        if (request.task() == Task.UPSAMPLE) {
            b.upsampleSampler(request.sampler());
            if (request.steps() != null) {
                b.upsampleSteps(request.steps());
            }
            stages = 1;
        } else {
            b.sampler(request.sampler()).guidanceScale(request.guidanceScale());
            if (request.steps() != null) {
                b.steps(request.steps());
            }
            stages = base.upsampler() != null ? 2 : 1;
        }
        try {
            this.pipeline = b.build();
        } catch (IOException e) {
            throw new IllegalStateException("the loaded models of '" + request.model().name() + "' could not be"
                    + " reused: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, null, e.getMessage());
        }
    }

    @Override
    public void run() {
        synchronized (this) {
            if (state != State.QUEUED) {
                return;
            }
            state = State.RUNNING;
            startNanos = System.nanoTime();
            emit("state", snapshotLocked());
        }
        JobRequest r = request;
        try {
            GlideResult result = switch (r.task()) {
                case TEXT_TO_IMAGE -> pipeline.sample(r.prompt(), r.seed());
                case INPAINT -> pipeline.inpaint(r.image(), r.mask(), r.prompt(), r.seed());
                case UPSAMPLE -> pipeline.upsample(r.image(), r.prompt(), r.seed());
            };
            List<byte[]> pngs = new ArrayList<>();
            for (int i = 0; i < result.size(); i++) {
                pngs.add(result.png(i));
            }
            synchronized (this) {
                images = List.copyOf(pngs);
                parameters = result.parameters().toMap();
            }
            finish(State.DONE, null);
        } catch (SamplingCancelledException e) {
            finish(State.CANCELLED, null);
        } catch (Exception | OutOfMemoryError e) {
            finish(State.FAILED, e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName());
        }
    }

    private void finish(State end, String message) {
        synchronized (this) {
            state = end;
            error = message;
            endNanos = System.nanoTime();
            emit(end.id(), snapshotLocked());
            listeners.clear();
        }
        request.model().jobTook((endNanos - startNanos) / 1e9);
    }

    /**
     * Cancels the job: a waiting one leaves the queue at once, a running one stops after its current step.
     *
     * @return false when the job had already ended
     */
    boolean cancel() {
        synchronized (this) {
            if (state.terminal()) {
                return false;
            }
            cancelRequested = true;
            if (state == State.QUEUED && request.model().dequeue(this)) {
                state = State.CANCELLED;
                emit(state.id(), snapshotLocked());
                listeners.clear();
            }
            return true;
        }
    }

    private void onProgress(PipelineStage stage, int step, int numSteps, int batch, int numBatches) {
        long now = System.nanoTime();
        int stageIndex = stage == PipelineStage.BASE || stages == 1 ? 0 : 1;
        double fraction = (batch * stages + stageIndex + (double) step / numSteps) / ((double) numBatches * stages);
        double elapsed = (now - startNanos) / 1e9;
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("stage", stage.name().toLowerCase(Locale.ROOT));
        p.put("step", step);
        p.put("numSteps", numSteps);
        p.put("batch", batch);
        p.put("numBatches", numBatches);
        p.put("fraction", fraction);
        p.put("elapsedSeconds", elapsed);
        p.put("etaSeconds", fraction > 0 ? elapsed * (1 - fraction) / fraction : null);
        synchronized (this) {
            progress = p;
            if (now - lastProgressNanos >= PROGRESS_INTERVAL_NANOS || step == numSteps) {
                lastProgressNanos = now;
                emit("progress", p);
            }
        }
    }

    /** Every {@code previewEvery} steps and at a stage's last step: the predicted x0 of the batch's images. */
    private boolean onStep(PipelineStage stage, int batch, StepInfo info) {
        if (cancelRequested) {
            return false;
        }
        int step = info.stepIndex() + 1;
        if (step % previewEvery == 0 || step == info.numSteps()) {
            INDArray x0 = info.predXStart();
            // the guided base stage's batch is [conditional rows | unconditional rows]: the images are the first half
            long rows = stage == PipelineStage.BASE && pipeline.settings().clipGuidanceScale() == null
                    ? x0.size(0) / 2 : x0.size(0);
            INDArray shown = x0.get(NDArrayIndex.interval(0, rows), NDArrayIndex.all(), NDArrayIndex.all(),
                    NDArrayIndex.all());
            try {
                byte[] png = PngFiles.encode(ImageTensors.gridImage(shown, (int) rows), Map.of());
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("stage", stage.name().toLowerCase(Locale.ROOT));
                e.put("step", step);
                e.put("numSteps", info.numSteps());
                e.put("batch", batch);
                e.put("image", "data:image/png;base64," + Base64.getEncoder().encodeToString(png));
                synchronized (this) {
                    preview = png;
                    previews++;
                    emit("preview", e);
                }
            } catch (IOException ex) {
                // a preview that cannot be encoded is skipped; sampling goes on
            }
        }
        return !cancelRequested;
    }

    private void emit(String name, Map<String, Object> data) {
        Event e = new Event(name, data);
        for (Consumer<Event> l : List.copyOf(listeners)) {
            l.accept(e);
        }
    }

    /**
     * Registers a listener for later events and returns the job's state as it is now, atomically (no event is
     * missed or seen before the snapshot). A job that has ended gets no listener.
     */
    synchronized Map<String, Object> listen(Consumer<Event> listener) {
        if (!state.terminal()) {
            listeners.add(listener);
        }
        return snapshotLocked();
    }

    synchronized void unlisten(Consumer<Event> listener) {
        listeners.remove(listener);
    }

    synchronized State state() {
        return state;
    }

    synchronized byte[] preview() {
        return preview;
    }

    synchronized List<byte[]> images() {
        return images;
    }

    synchronized Map<String, Object> snapshot() {
        return snapshotLocked();
    }

    private Map<String, Object> snapshotLocked() {
        JobRequest r = request;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("state", state.id());
        m.put("model", r.model().name());
        m.put("task", r.task().id());
        m.put("prompt", r.prompt());
        m.put("seed", r.seed());
        m.put("sampler", r.sampler().configName());
        m.put("steps", r.steps() != null ? r.steps() : r.model().defaultSteps(r.task()));
        if (r.task() != Task.UPSAMPLE) {
            m.put("guidanceScale", r.guidanceScale());
        }
        m.put("numImages", r.numImages());
        m.put("createdAt", createdMillis);
        int position = state == State.QUEUED ? r.model().queuePosition(this) : 0;
        if (position > 0) {
            // absent for a queued job the idle worker has already taken
            m.put("queuePosition", position);
        }
        if (state == State.RUNNING && cancelRequested) {
            m.put("cancelRequested", true);
        }
        m.put("progress", progress);
        if (startNanos != 0) {
            m.put("elapsedSeconds", ((state.terminal() ? endNanos : System.nanoTime()) - startNanos) / 1e9);
        }
        String base = "/api/jobs/" + id;
        m.put("preview", preview == null ? null : base + "/preview.png?n=" + previews);
        List<String> urls = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            urls.add(base + "/images/" + i + ".png");
        }
        m.put("images", urls);
        m.put("parameters", parameters);
        m.put("error", error);
        return m;
    }
}
