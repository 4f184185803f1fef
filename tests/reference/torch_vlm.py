"""torch_vlm.py - the prunelab VLM rebuilt in PyTorch, parameter for parameter.

It mirrors framework/model/ exactly (names, shapes, packing of q/k/v, patch order, the
auxiliary cell head, losses), so that a prunelab checkpoint loads into it unchanged. It is
the oracle for tests/test_model_reference.c and the speed peer of bench/bench_train.
"""
import math

import torch
import torch.nn.functional as F


class Config:
    def __init__(self, **kw):
        self.dim_vision = kw["dim_vision"]
        self.dim_query = kw["dim_query"]
        self.dim_language = kw["dim_language"]
        self.layers_vision = kw["layers_vision"]
        self.layers_query = kw["layers_query"]
        self.layers_language = kw["layers_language"]
        self.heads = kw["heads"]
        self.num_queries = kw["num_queries"]
        self.mlp_ratio = kw.get("mlp_ratio", 4)
        self.image_size = kw.get("image_size", 56)
        self.patch_size = kw.get("patch_size", 7)
        self.vocab_size = kw["vocab_size"]
        self.text_len = kw["text_len"]
        self.aux_classes = kw.get("aux_classes", 11)
        # Per-block units ({"vision": [{"heads", "ffn"}, ...], "bridge": [{"heads",
        # "cross_heads", "ffn"}, ...], "language": [...]}, a checkpoint's "blocks" metadata);
        # absent: every block has `heads` heads and mlp_ratio x width MLP channels.
        self.blocks = kw.get("blocks")

    def width(self, module):
        return {"vision": self.dim_vision, "bridge": self.dim_query,
                "language": self.dim_language}[module]

    def head_dim(self, module):
        return self.width(module) // self.heads

    def block(self, module, i):
        """(heads, cross_heads, ffn) of block i of module."""
        if self.blocks is not None:
            b = self.blocks[module][i]
            return b["heads"], b.get("cross_heads", 0), b["ffn"]
        return (self.heads, self.heads if module == "bridge" else 0,
                self.mlp_ratio * self.width(module))

    @property
    def side(self):
        return self.image_size // self.patch_size

    @property
    def num_patches(self):
        return self.side * self.side


def parameter_shapes(c):
    """(name, shape) in prunelab's layout order (framework/model/params.c)."""
    out = []

    def linear(prefix, i, o):
        out.append((prefix + ".weight", (o, i)))
        out.append((prefix + ".bias", (o,)))

    def norm(prefix, d):
        out.append((prefix + ".weight", (d,)))
        out.append((prefix + ".bias", (d,)))

    def bias(prefix, o):
        out.append((prefix + ".bias", (o,)))

    def block(module, i, ctx):
        """A sublayer without units keeps only its output projection's bias."""
        prefix = "%s.blocks.%d" % (module, i)
        d, hd = c.width(module), c.head_dim(module)
        heads, cross_heads, ffn = c.block(module, i)
        a, x = heads * hd, cross_heads * hd
        if a:
            norm(prefix + ".ln_attn", d)
            linear(prefix + ".attn.qkv", d, 3 * a)
            linear(prefix + ".attn.proj", a, d)
        else:
            bias(prefix + ".attn.proj", d)
        if ctx:
            if x:
                norm(prefix + ".ln_cross", d)
                linear(prefix + ".cross.q", d, x)
                linear(prefix + ".cross.kv", ctx, 2 * x)
                linear(prefix + ".cross.proj", x, d)
            else:
                bias(prefix + ".cross.proj", d)
        if ffn:
            norm(prefix + ".ln_mlp", d)
            linear(prefix + ".mlp.fc1", d, ffn)
            linear(prefix + ".mlp.fc2", ffn, d)
        else:
            bias(prefix + ".mlp.fc2", d)

    dv, dq, dl = c.dim_vision, c.dim_query, c.dim_language
    linear("vision.patch", c.patch_size ** 2, dv)
    out.append(("vision.pos", (c.num_patches, dv)))
    for i in range(c.layers_vision):
        block("vision", i, 0)
    norm("vision.ln_final", dv)
    if c.aux_classes:
        linear("vision.aux_head", dv, c.aux_classes)
    out.append(("bridge.queries", (c.num_queries, dq)))
    for i in range(c.layers_query):
        block("bridge", i, dv)
    norm("bridge.ln_final", dq)
    if c.aux_classes and c.num_queries >= 4:
        linear("bridge.aux_head", dq, c.aux_classes)
    linear("bridge.proj", dq, dl)
    out.append(("language.token_embedding", (c.vocab_size, dl)))
    out.append(("language.pos", (c.num_queries + c.text_len, dl)))
    for i in range(c.layers_language):
        block("language", i, 0)
    norm("language.ln_final", dl)
    return out


def layer_norm(x, p, name):
    return F.layer_norm(x, (x.shape[-1],), p[name + ".weight"], p[name + ".bias"], eps=1e-5)


def linear(x, p, name, masks):
    w = p[name + ".weight"]
    if masks is not None and (name + ".weight") in masks:
        w = w * masks[name + ".weight"]
    return F.linear(x, w, p[name + ".bias"])


def attention(q, k, v, heads, causal):
    """q [B,Tq,C], k/v [B,Tkv,C]; heads split the C = heads x head width channels in order."""
    B, Tq, C = q.shape
    Tkv = k.shape[1]
    hd = C // heads
    q = q.view(B, Tq, heads, hd).transpose(1, 2)
    k = k.view(B, Tkv, heads, hd).transpose(1, 2)
    v = v.view(B, Tkv, heads, hd).transpose(1, 2)
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
    if causal:
        mask = torch.ones(Tq, Tkv, dtype=torch.bool, device=q.device).tril()
        scores = scores.masked_fill(~mask, float("-inf"))
    y = torch.softmax(scores, dim=-1) @ v
    return y.transpose(1, 2).reshape(B, Tq, C)


def block(x, ctx, p, c, module, i, causal, masks):
    prefix = "%s.blocks.%d" % (module, i)
    heads, cross_heads, ffn = c.block(module, i)
    A, X = heads * c.head_dim(module), cross_heads * c.head_dim(module)
    if heads:
        h = layer_norm(x, p, prefix + ".ln_attn")
        qkv = linear(h, p, prefix + ".attn.qkv", masks)
        y = attention(qkv[..., :A], qkv[..., A:2 * A], qkv[..., 2 * A:], heads, causal)
        x = x + linear(y, p, prefix + ".attn.proj", masks)
    else:
        x = x + p[prefix + ".attn.proj.bias"]
    if ctx is not None:
        if cross_heads:
            h = layer_norm(x, p, prefix + ".ln_cross")
            q = linear(h, p, prefix + ".cross.q", masks)
            kv = linear(ctx, p, prefix + ".cross.kv", masks)
            y = attention(q, kv[..., :X], kv[..., X:], cross_heads, False)
            x = x + linear(y, p, prefix + ".cross.proj", masks)
        else:
            x = x + p[prefix + ".cross.proj.bias"]
    if not ffn:
        return x + p[prefix + ".mlp.fc2.bias"]
    h = layer_norm(x, p, prefix + ".ln_mlp")
    h = F.gelu(linear(h, p, prefix + ".mlp.fc1", masks), approximate="tanh")
    return x + linear(h, p, prefix + ".mlp.fc2", masks)


def patchify(images, c):
    B = images.shape[0]
    s, ps = c.side, c.patch_size
    x = images.view(B, s, ps, s, ps).permute(0, 1, 3, 2, 4)
    return x.reshape(B, s * s, ps * ps)


def forward(p, c, images, tokens, targets=None, cells=None, task_weight=1.0, aux_weight=0.0,
            bridge_aux_weight=0.0, masks=None):
    """Returns (total, task, aux, bridge_aux, logits [B, Nq+T, V])."""
    B = images.shape[0]
    x = linear(patchify(images, c), p, "vision.patch", masks) + p["vision.pos"]
    for i in range(c.layers_vision):
        x = block(x, None, p, c, "vision", i, False, masks)
    vis = layer_norm(x, p, "vision.ln_final")

    aux = torch.zeros(())
    if aux_weight > 0 and cells is not None and c.aux_classes:
        half = c.side // 2
        grid = vis.view(B, c.side, c.side, -1)
        feats = []
        for cell in range(4):
            y0, x0 = (cell // 2) * half, (cell % 2) * half
            feats.append(grid[:, y0:y0 + half, x0:x0 + half, :].mean(dim=(1, 2)))
        feat = torch.stack(feats, dim=1)  # [B, 4, Dv]
        aux_logits = linear(feat, p, "vision.aux_head", masks)
        aux = F.cross_entropy(aux_logits.reshape(B * 4, -1), cells.reshape(-1))

    q = p["bridge.queries"].unsqueeze(0).expand(B, -1, -1)
    for i in range(c.layers_query):
        q = block(q, vis, p, c, "bridge", i, False, masks)
    q = layer_norm(q, p, "bridge.ln_final")
    bridge_aux = torch.zeros(())
    if bridge_aux_weight > 0 and cells is not None and "bridge.aux_head.weight" in p:
        bl = linear(q[:, :4, :], p, "bridge.aux_head", masks)
        bridge_aux = F.cross_entropy(bl.reshape(B * 4, -1), cells.reshape(-1))
    prefix = linear(q, p, "bridge.proj", masks)

    emb = p["language.token_embedding"]
    h = torch.cat([prefix, emb[tokens]], dim=1) + p["language.pos"]
    for i in range(c.layers_language):
        h = block(h, None, p, c, "language", i, True, masks)
    logits = layer_norm(h, p, "language.ln_final") @ emb.t()

    task = torch.zeros(())
    if targets is not None:
        text_logits = logits[:, c.num_queries:, :].reshape(-1, c.vocab_size)
        task = F.cross_entropy(text_logits, targets.reshape(-1), ignore_index=-1)
    total = task_weight * task + aux_weight * aux + bridge_aux_weight * bridge_aux
    return total, task, aux, bridge_aux, logits
