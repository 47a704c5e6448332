package io.github.glidejava.diffusion.serve;

import java.util.Arrays;
import java.util.List;

/** What a job does; the ids are those {@code GenerationParameters.task} records. */
enum Task {
    TEXT_TO_IMAGE("text-to-image"),
    INPAINT("inpaint"),
    UPSAMPLE("upsample");

    private final String id;

    Task(String id) {
        this.id = id;
    }

    String id() {
        return id;
    }

    /** The task of that id, or null. */
    static Task named(String id) {
        return Arrays.stream(values()).filter(t -> t.id.equals(id)).findFirst().orElse(null);
    }

    static List<String> ids() {
        return Arrays.stream(values()).map(Task::id).toList();
    }
}
