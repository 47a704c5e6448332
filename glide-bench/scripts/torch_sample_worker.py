#!/usr/bin/python3
"""The PyTorch side of issue 13's end-to-end figures: GLIDE's text2im notebook (base model with classifier-free
guidance, then the upsampler), run with the official glide-text2im code (found through --peer, unchanged), fp32, on
the CPU. Speaks ../shared/peer/drive.py's protocol (READY / run -> T seconds / rss / quit); the Java side is
io.github.glidejava.bench.SampleWorker.

    torch_sample_worker.py checkpoints DIR            write stand-in base.pt and upsample.pt (random weights)
    torch_sample_worker.py sample [--base FILE] [--upsampler FILE] [--preset notebook|fast] [--batch N]
                                  [--peer DIR] [--threads 2]

READY comes once both models are built and their checkpoints loaded; it carries the load time and the peak memory
of the loading. One `run` = the notebook's sampling for --batch prompts (default 1): preset `notebook` is its own
settings (base respacing "100" with p_sample_loop, guidance scale 3; upsampler "fast27" with ddim_sample_loop and
temperature 0.997); `fast` replaces the base stage by ddim_sample_loop with respacing "ddim25". The base samples are
quantised to 8 bits before the upsampler, as in the notebook. `T` is followed by the time of each stage.

Stand-in checkpoints: glide's own initialisation, with every parameter that starts all zero (zero_module layers, norm
biases) and the th.empty text embeddings drawn as in torch_clip_worker.py, saved with torch.save(state_dict) as the
released files are. Without --base / --upsampler the models keep that initialisation and nothing is loaded.
"""
import argparse
import os
import sys
import time

from torch_clip_worker import fill_random, serve  # this directory; torch is imported inside main()

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROMPT = "an oil painting of a corgi"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["checkpoints", "sample"])
    ap.add_argument("dir", nargs="?", help="checkpoints: where base.pt and upsample.pt are written")
    ap.add_argument("--peer", default=os.path.join(REPO, "..", "shared", "peer"),
                    help="directory holding glide_text2im/ (default ../shared/peer from the repository root)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--base", help="base checkpoint (state dict) to load")
    ap.add_argument("--upsampler", help="upsampler checkpoint (state dict) to load")
    ap.add_argument("--preset", choices=["notebook", "fast"], default="notebook")
    ap.add_argument("--batch", type=int, default=1, help="prompts sampled together (default 1)")
    a = ap.parse_args()

    sys.path.insert(0, os.path.abspath(a.peer))
    import torch as th
    from glide_text2im.model_creation import (create_model_and_diffusion, model_and_diffusion_defaults,
                                              model_and_diffusion_defaults_upsampler)
    th.set_num_threads(a.threads)
    th.manual_seed(0)

    def build(defaults, respacing, checkpoint, seed):
        o = defaults()
        o["use_fp16"] = False
        o["timestep_respacing"] = respacing
        model, diffusion = create_model_and_diffusion(**o)
        model.eval()
        if checkpoint:
            model.load_state_dict(th.load(checkpoint, map_location="cpu"))
        else:
            fill_random(th, model, th.Generator().manual_seed(seed))
        return o, model, diffusion

    if a.mode == "checkpoints":
        if not a.dir:
            raise SystemExit("checkpoints needs the output directory")
        os.makedirs(a.dir, exist_ok=True)
        for name, defaults, seed in (("base", model_and_diffusion_defaults, 1),
                                     ("upsample", model_and_diffusion_defaults_upsampler, 2)):
            _, model, _ = build(defaults, "", None, seed)
            path = os.path.join(a.dir, name + ".pt")
            th.save(model.state_dict(), path + ".tmp")
            os.replace(path + ".tmp", path)
            sys.stderr.write(f"wrote {path} ({os.path.getsize(path) / 2**20:.0f} MiB)\n")
        return

    t0 = time.perf_counter()
    o, model, diffusion = build(model_and_diffusion_defaults, "100" if a.preset == "notebook" else "ddim25", a.base, 1)
    o_up, model_up, diffusion_up = build(model_and_diffusion_defaults_upsampler, "fast27", a.upsampler, 2)
    load_s = time.perf_counter() - t0

    guidance_scale, upsample_temp, batch_size = 3.0, 0.997, a.batch

    def model_fn(x_t, ts, **kwargs):  # the notebook's classifier-free guidance
        half = x_t[: len(x_t) // 2]
        combined = th.cat([half, half], dim=0)
        model_out = model(combined, ts, **kwargs)
        eps, rest = model_out[:, :3], model_out[:, 3:]
        cond_eps, uncond_eps = th.split(eps, len(eps) // 2, dim=0)
        half_eps = uncond_eps + guidance_scale * (cond_eps - uncond_eps)
        eps = th.cat([half_eps, half_eps], dim=0)
        return th.cat([eps, rest], dim=1)

    def run():
        s0 = time.perf_counter()
        with th.no_grad():
            tokens = model.tokenizer.encode(PROMPT)
            tokens, mask = model.tokenizer.padded_tokens_and_mask(tokens, o["text_ctx"])
            uncond_tokens, uncond_mask = model.tokenizer.padded_tokens_and_mask([], o["text_ctx"])
            model_kwargs = dict(
                tokens=th.tensor([tokens] * batch_size + [uncond_tokens] * batch_size),
                mask=th.tensor([mask] * batch_size + [uncond_mask] * batch_size, dtype=th.bool))
            shape = (batch_size * 2, 3, o["image_size"], o["image_size"])
            loop = diffusion.p_sample_loop if a.preset == "notebook" else diffusion.ddim_sample_loop
            samples = loop(model_fn, shape, device="cpu", clip_denoised=True, progress=False,
                           model_kwargs=model_kwargs, cond_fn=None)[:batch_size]
            s1 = time.perf_counter()
            tokens = model_up.tokenizer.encode(PROMPT)
            tokens, mask = model_up.tokenizer.padded_tokens_and_mask(tokens, o_up["text_ctx"])
            model_kwargs = dict(
                low_res=((samples + 1) * 127.5).round() / 127.5 - 1,
                tokens=th.tensor([tokens] * batch_size),
                mask=th.tensor([mask] * batch_size, dtype=th.bool))
            up_shape = (batch_size, 3, o_up["image_size"], o_up["image_size"])
            up = diffusion_up.ddim_sample_loop(model_up, up_shape, noise=th.randn(up_shape) * upsample_temp,
                                               device="cpu", clip_denoised=True, progress=False,
                                               model_kwargs=model_kwargs, cond_fn=None)[:batch_size]
        s2 = time.perf_counter()
        if not th.isfinite(up).all():
            raise SystemExit("sample is not finite")
        return f"base={s1 - s0:.2f} upsample={s2 - s1:.2f} sum={up.sum().item():.4f}"

    sys.stderr.write(f"torch {th.__version__}, {th.get_num_threads()} threads\n")
    serve(f"preset={a.preset} batch={batch_size} load={load_s:.1f}s", run)

if __name__ == "__main__":
    main()
