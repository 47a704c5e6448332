/**
 * Training data for {@code glide train}: {@link io.github.glidejava.core.data.DatasetLoader} opens a folder, table,
 * metadata file or the emoji-datasource-google package as a
 * {@link io.github.glidejava.core.data.CaptionedImageDataset} of pictures prepared at the training size, and
 * {@link io.github.glidejava.core.data.TrainingBatches} draws seeded, resumable batches from it.
 * docs/training-data.md describes the layouts, the picture preparation and the handling of bad input.
 */
package io.github.glidejava.core.data;
