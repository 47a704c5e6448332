package io.github.glidejava.diffusion.serve;

/**
 * What one request may ask for; larger requests get a 400 naming the limit.
 *
 * @param maxSteps        sampling steps of a job (also at most the model's trained diffusion steps)
 * @param maxImages       images of a job
 * @param maxPromptLength characters of a prompt
 * @param maxUploadBytes  bytes of an uploaded image or mask
 * @param maxImageSide    width and height of an uploaded image
 */
record ServerLimits(int maxSteps, int maxImages, int maxPromptLength, int maxUploadBytes, int maxImageSide) {
}
