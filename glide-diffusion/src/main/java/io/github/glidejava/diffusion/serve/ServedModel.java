package io.github.glidejava.diffusion.serve;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.PipelineSettings;
import io.github.glidejava.diffusion.sampling.SamplerType;
import io.github.glidejava.nn.unet.GlideModelKind;

/**
 * A loaded pipeline the server offers under a name, with its own worker: one job at a time, the others waiting in
 * a bounded queue (a full queue refuses new jobs). The pipeline's models are shared by all its jobs; each job
 * derives its own settings from it ({@link GlidePipeline#toBuilder()} loads nothing).
 */
final class ServedModel {
    /** Assumed length of a job until one has finished, for the first Retry-After hints. */
    private static final double INITIAL_JOB_SECONDS = 10;

    private final String name;
    private final GlidePipeline pipeline;
    private final List<Task> tasks;
    private final int queueCapacity;
    private final ThreadPoolExecutor worker;
    private volatile double meanJobSeconds = INITIAL_JOB_SECONDS;

    ServedModel(String name, GlidePipeline pipeline, int queueCapacity) {
        this.name = name;
        this.pipeline = pipeline;
        this.queueCapacity = queueCapacity;
        List<Task> t = new ArrayList<>();
        GlideModel base = pipeline.base();
        GlideModel up = pipeline.upsampler();
        if (base != null) {
            t.add(base.kind() == GlideModelKind.BASE_INPAINT ? Task.INPAINT : Task.TEXT_TO_IMAGE);
        }
        if (up != null && up.kind() == GlideModelKind.UPSAMPLE) {
            t.add(Task.UPSAMPLE);
        }
        if (t.isEmpty()) {
            throw new IllegalArgumentException("model '" + name + "' can do none of " + Task.ids() + ": an"
                    + " upsample-inpaint model needs its base-inpaint model");
        }
        this.tasks = List.copyOf(t);
        this.worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queueCapacity),
                r -> {
                    Thread th = new Thread(r, "glide-serve-" + name);
                    th.setDaemon(true);
                    return th;
                });
    }

    String name() {
        return name;
    }

    GlidePipeline pipeline() {
        return pipeline;
    }

    List<Task> tasks() {
        return tasks;
    }

    /** The model that runs the task's sampling steps. */
    private GlideModel sampled(Task task) {
        return task == Task.UPSAMPLE ? pipeline.upsampler() : pipeline.base();
    }

    SamplerType defaultSampler(Task task) {
        PipelineSettings s = pipeline.settings();
        return task == Task.UPSAMPLE ? s.upsampleSampler(pipeline.upsampler().kind()) : s.sampler();
    }

    /** Steps of the task's default respacing (e.g. 27 for the upsampler's "fast27"). */
    int defaultSteps(Task task) {
        PipelineSettings s = pipeline.settings();
        return sampled(task).diffusion().respaced(task == Task.UPSAMPLE ? s.upsampleSteps() : s.steps())
                .numTimesteps();
    }

    int diffusionSteps(Task task) {
        return sampled(task).diffusion().numTimesteps();
    }

    double defaultGuidanceScale() {
        return pipeline.settings().guidanceScale();
    }

    /** Queues the job, or refuses with 429 and a Retry-After estimate when the queue is full. */
    void submit(Job job) {
        try {
            worker.execute(job);
        } catch (RejectedExecutionException e) {
            int retry = (int) Math.max(1, Math.ceil(meanJobSeconds * (waiting() + 1)));
            throw new ApiException(429, null, "model '" + name + "' has " + queueCapacity + " jobs waiting, its"
                    + " queue's limit; retry in about " + retry + " s", retry);
        }
    }

    /** Takes a queued job out of the queue; false when it was not (or no longer) waiting. */
    boolean dequeue(Job job) {
        return worker.remove(job);
    }

    /** 1-based place of a waiting job in the queue, 0 when it is not waiting. */
    int queuePosition(Job job) {
        int i = 1;
        for (Runnable r : worker.getQueue()) {
            if (r == job) {
                return i;
            }
            i++;
        }
        return 0;
    }

    int waiting() {
        return worker.getQueue().size();
    }

    /** Folds a finished job's duration into the estimate behind Retry-After. */
    void jobTook(double seconds) {
        meanJobSeconds = 0.7 * meanJobSeconds + 0.3 * seconds;
    }

    void shutdown() {
        worker.shutdownNow();
    }

    Map<String, Object> describe(ServerLimits limits) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("tasks", tasks.stream().map(Task::id).toList());
        GlideModel base = pipeline.base();
        GlideModel up = pipeline.upsampler();
        m.put("baseModel", base == null ? null : base.name());
        m.put("upsampler", up == null ? null : up.name());
        m.put("imageSize", (up != null ? up : base).imageSize());
        Map<String, Object> defaults = new LinkedHashMap<>();
        for (Task t : tasks) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("sampler", defaultSampler(t).configName());
            d.put("steps", defaultSteps(t));
            d.put("maxSteps", Math.min(limits.maxSteps(), diffusionSteps(t)));
            if (t != Task.UPSAMPLE) {
                d.put("guidanceScale", defaultGuidanceScale());
            }
            defaults.put(t.id(), d);
        }
        m.put("defaults", defaults);
        m.put("maxImages", limits.maxImages());
        m.put("samplers", java.util.Arrays.stream(SamplerType.values()).map(SamplerType::configName).toList());
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("capacity", queueCapacity);
        q.put("waiting", waiting());
        q.put("running", worker.getActiveCount());
        m.put("queue", q);
        return m;
    }
}
