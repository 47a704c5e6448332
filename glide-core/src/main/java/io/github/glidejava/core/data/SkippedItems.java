package io.github.glidejava.core.data;

import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;

/**
 * The items of a data set that could not be used, with why. Lenient: collected and reported in one warning.
 * Strict: the first one is a {@link DatasetException} naming the item and the problem.
 */
final class SkippedItems {
    private final boolean strict;
    private final String source;
    private final List<String> items = new ArrayList<>();

    SkippedItems(boolean strict, String source) {
        this.strict = strict;
        this.source = source;
    }

    void skip(String item, String problem) throws DatasetException {
        if (strict) {
            throw new DatasetException(source + ": " + item + ": " + problem + " (strict mode; without it the item is skipped)");
        }
        synchronized (items) {
            items.add(item + ": " + problem);
        }
    }

    int count() {
        return items.size();
    }

    List<String> items() {
        return List.copyOf(items);
    }

    /** One warning naming every skipped item and why; nothing when none was skipped. */
    void report(Logger log, int usable) {
        if (!items.isEmpty()) {
            log.warn("{}: skipped {} of {} items:\n  {}", source, items.size(), items.size() + usable, String.join("\n  ", items));
        }
    }

    /** The error for a data set with nothing usable left. */
    DatasetException empty() {
        if (items.isEmpty()) {
            return new DatasetException(source + " holds no examples");
        }
        int shown = Math.min(items.size(), 10);
        return new DatasetException(source + " has no usable examples: all " + items.size() + " items were skipped ("
                + String.join("; ", items.subList(0, shown)) + (shown < items.size() ? "; ..." : "") + ")");
    }
}
