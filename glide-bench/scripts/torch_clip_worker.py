#!/usr/bin/python3
"""The PyTorch side of issue 12's speed figure: one base-model p_sample step, unguided or CLIP-guided, with the
official glide-text2im code (found through --peer, unchanged), fp32, on the CPU. Speaks ../shared/peer/drive.py's
protocol (READY / run -> T seconds / rss / quit); the Java side is io.github.glidejava.bench.ClipStepWorker.

    torch_clip_worker.py unguided|clip [--peer DIR] [--threads 2] [--t 50] [--respacing 100] [--scale 3]
                         [--tiny] [--clip-config FILE]

One `run` = one `diffusion.p_sample(model, x, t, clip_denoised=True, model_kwargs=tokens/mask[, cond_fn])` under
`th.no_grad()`, as the clip_guided notebook's p_sample_loop does it: the base model (model_and_diffusion_defaults(),
64x64, fp32, respacing "100") at respaced step --t, batch 1, the GPT-2 tokens of a fixed prompt, no
classifier-free guidance. `clip` adds `cond_fn = clip_model.cond_fn([prompt], 3.0)` from a noised CLIP built by
`create_clip_model` with config.yaml (or --clip-config, JSON being YAML): the gradient of the CLIP score wrt x at the
un-respaced timestep, times the variance (condition_mean). The text embedding is computed once, when cond_fn is made.

Weights are random: PyTorch's / glide's own initialisation, and every U-Net parameter that starts all zero
(zero_module: each ResBlock's last conv, attention proj_out, the output conv; also the norm biases) filled with
uniform values of bound 1/sqrt(fan_in) (1/8 for vectors), as glide-bench's RandomWeights does, so the gradient is
not zero. The text transformer's positional_embedding / padding_embedding, which glide leaves uninitialised
(th.empty), get normal(0.01) as in glide-java; the CLIP Affine weights, also left th.empty, get normal(Affine.std),
the std the module computes for them.
--tiny: a small U-Net (16x16, 32 channels, mult 1,2, 1 res block, attention at 8, text 32 x 1 layer) with the
fixture CLIP config (--clip-config, default ../shared/glide-ref/clip/config_tiny.json beside --peer) to check the
protocol in seconds.
"""
import argparse
import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROMPT = "an oil painting of a corgi wearing a red hat"
TINY = dict(image_size=16, num_channels=32, channel_mult="1,2", num_res_blocks=1, attention_resolutions="8",
            num_head_channels=16, xf_width=32, xf_layers=1, xf_heads=2)


def mem():
    d = {}
    for line in open("/proc/self/status"):
        if line.startswith(("VmHWM", "VmRSS")):
            k, v = line.split(":")
            d[k] = v.strip().replace(" ", "")
    return f"VmHWM={d['VmHWM']} VmRSS={d['VmRSS']}"


def say(s):
    sys.stdout.write(s + "\n")
    sys.stdout.flush()


def fill_random(th, model, g):
    """Values for what glide leaves zero or uninitialised, drawn from generator g (see the module docstring)."""
    import numpy as np
    with th.no_grad():
        # glide leaves these two th.empty (the released checkpoint fills them); glide-java's init: normal(0.01)
        for name in ("positional_embedding", "padding_embedding"):
            if hasattr(model, name):
                getattr(model, name).normal_(std=0.01, generator=g)
        for p in model.parameters():
            if not p.any():
                fan_in = int(np.prod(p.shape[1:])) if p.dim() >= 2 else 64
                bound = 1.0 / np.sqrt(fan_in)
                p.copy_(th.rand(p.shape, generator=g) * (2 * bound) - bound)


def serve(ready, run):
    """drive.py's protocol: READY (then VmHWM counts the work alone), run -> T seconds, rss, quit."""
    say("READY " + ready + " " + mem())
    open("/proc/self/clear_refs", "w").write("5")  # VmHWM from here on: the work, not the loading
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "run":
            t0 = time.perf_counter()
            extra = run()
            say(f"T {time.perf_counter() - t0:.4f} {extra}")
        elif cmd == "rss":
            say("RSS " + mem())
        elif cmd == "quit":
            break


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["unguided", "clip"])
    ap.add_argument("--peer", default=os.path.join(REPO, "..", "shared", "peer"),
                    help="directory holding glide_text2im/ (default ../shared/peer from the repository root)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--t", type=int, default=50, help="respaced timestep of the step (default 50 of 100)")
    ap.add_argument("--respacing", default="100")
    ap.add_argument("--scale", type=float, default=3.0, help="CLIP guidance scale (the notebook's 3.0)")
    ap.add_argument("--tiny", action="store_true", help="small U-Net and the fixture's tiny CLIP (protocol check)")
    ap.add_argument("--clip-config", help="CLIP config (YAML or JSON, config.yaml's keys); default config.yaml")
    a = ap.parse_args()

    sys.path.insert(0, os.path.abspath(a.peer))
    import numpy as np
    if not hasattr(np, "bool"):
        np.bool = bool  # glide_text2im/clip/attention.py uses np.bool, removed in numpy 1.24
    import torch as th
    try:
        import ftfy  # noqa: F401  (SimpleTokenizer's clean-up)
    except ImportError:  # not packaged everywhere; the fixed ASCII prompt is the same with or without it
        import types
        sys.modules["ftfy"] = types.SimpleNamespace(fix_text=lambda text: text)
    from glide_text2im.model_creation import create_model_and_diffusion, model_and_diffusion_defaults

    th.set_num_threads(a.threads)
    th.manual_seed(0)
    o = model_and_diffusion_defaults()
    if a.tiny:
        o.update(TINY)
    o["use_fp16"] = False
    o["timestep_respacing"] = a.respacing
    model, diffusion = create_model_and_diffusion(**o)
    model.eval()
    g = th.Generator().manual_seed(1)
    fill_random(th, model, g)

    enc = model.tokenizer
    toks, mask = enc.padded_tokens_and_mask(enc.encode(PROMPT), o["text_ctx"])
    kwargs = dict(tokens=th.tensor([toks]), mask=th.tensor([mask], dtype=th.bool))
    size = o["image_size"]
    x = th.randn(1, 3, size, size, generator=g)
    t = th.tensor([a.t], dtype=th.long)

    cond_fn = None
    last = {}
    clip_params = 0
    if a.mode == "clip":
        from glide_text2im.clip.model_creation import create_clip_model
        cfg = a.clip_config
        if cfg is None and a.tiny:
            cfg = os.path.join(os.path.abspath(a.peer), "..", "glide-ref", "clip", "config_tiny.json")
        clip = create_clip_model(config_path=cfg, device=th.device("cpu"))
        with th.no_grad():
            # clip/utils.py's Affine computes its std but leaves w th.empty (the released weights fill it): draw it
            for enc_ in (clip.image_encoder, clip.text_encoder):
                for mod in enc_.modules():
                    if type(mod).__name__ == "Affine" and isinstance(getattr(mod, "w", None), th.Tensor):
                        mod.w.normal_(std=mod.std if mod.std is not None else 0.02, generator=g)
        for n, p in list(clip.image_encoder.named_parameters()) + list(clip.text_encoder.named_parameters()):
            if not th.isfinite(p).all() or p.abs().max() > 1e3:
                raise SystemExit(f"CLIP parameter {n} is not initialised (max |v| {p.abs().max().item():.3g})")
        clip.image_encoder.eval()
        clip.text_encoder.eval()
        clip_params = sum(p.numel() for p in clip.image_encoder.parameters()) + \
            sum(p.numel() for p in clip.text_encoder.parameters())
        if clip.config["image_size"] != size:
            raise SystemExit(f"CLIP image_size {clip.config['image_size']} != the U-Net's {size}")
        inner = clip.cond_fn([PROMPT], a.scale)

        def cond_fn(x_, t_, **kw):
            grad = inner(x_, t_, **kw)
            last["grad"] = grad.abs().sum().item()  # reported so a zero or non-finite gradient shows
            return grad

    def run():
        with th.no_grad():
            out = diffusion.p_sample(model, x, t, clip_denoised=True, model_kwargs=kwargs, cond_fn=cond_fn)
        s = out["sample"]
        if not th.isfinite(s).all():
            raise SystemExit("sample is not finite")
        g_ = f" grad_abs={last['grad']:.6g}" if "grad" in last else ""
        return f"sum={s.sum().item():.6f} abs={s.abs().sum().item():.6f}" + g_

    sys.stderr.write(f"torch {th.__version__}, {th.get_num_threads()} threads, U-Net "
                     f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M, CLIP {clip_params / 1e6:.2f}M\n")
    serve(f"mode={a.mode} size={size} t={a.t}/{a.respacing} scale={a.scale if cond_fn else 0}", run)


if __name__ == "__main__":
    main()
