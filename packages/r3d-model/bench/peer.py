"""PyTorch peer of the r3d-model bench: the same R3D model (released wiring) and the same two
measurements: ms per training step (forward + loss + backward + AdamW step) at B=8, T=100, C=128,
depth 120x160, 20 classes; ms per evaluation forward at B=1, T=300.
Usage: /usr/bin/python3 peer.py --serve THREADS   one timed run per stdin line 'train' / 'eval',
answered with one JSON line {"ms": ...} (bench.ts alternates these with its own runs)"""
import json, math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

C, HEADS, Q, N, D_RGB, H, W = 128, 8, 8, 20, 2048, 120, 160
PAD = N + 1


class Block(nn.Module):  # timm-style pre-norm block, qkv without bias, attention to the other token only
    def __init__(self):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.qkv, self.proj = nn.Linear(C, 3 * C, bias=False), nn.Linear(C, C)
        self.mlp = nn.Sequential(nn.Linear(C, 4 * C), nn.GELU(), nn.Linear(4 * C, C))
        self.register_buffer('mask', torch.tensor([[-math.inf, 0.0], [0.0, -math.inf]]))

    def forward(self, x):
        n, t, c = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(n, t, 3, HEADS, c // HEADS).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        a = ((q @ k.transpose(-2, -1)) * (c // HEADS) ** -0.5 + self.mask).softmax(-1)
        x = x + self.proj((a @ v).transpose(1, 2).reshape(n, t, c))
        return x + self.mlp(self.norm2(x))


class Fuser(nn.Module):
    def __init__(self, ratio=0.1):
        super().__init__()
        self.bn_rgb, self.bn_depth = nn.BatchNorm1d(C), nn.BatchNorm1d(C)
        self.alpha = nn.Parameter(torch.rand(1, 1, C))
        self.block, self.norm, self.k = Block(), nn.LayerNorm(C), int(C * ratio)
        self.drop = nn.Dropout(0.1)

    def forward(self, r, d):
        b, t, c = r.shape
        r = self.bn_rgb(r.reshape(-1, c)).reshape(b, t, c)
        d = self.bn_depth(d.reshape(-1, c)).reshape(b, t, c)
        sr = torch.topk(self.bn_rgb.weight.abs(), self.k, largest=False).indices
        sd = torch.topk(self.bn_depth.weight.abs(), self.k, largest=False).indices
        a = self.alpha
        r2, d2 = r.clone(), d.clone()
        r2[..., sr] = a[..., sr] * r[..., sr] + (1 - a[..., sr]) * d[..., sr]
        d2[..., sd] = a[..., sd] * d[..., sd] + (1 - a[..., sd]) * r[..., sd]
        x = self.drop(torch.stack([r2, d2], 2).reshape(b * t, 2, c))
        return self.norm(self.block(x)).mean(1).reshape(b, t, c)


class DecoderLayer(nn.Module):  # post-norm, released wiring (value also gets the positions)
    def __init__(self):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(C, HEADS, dropout=0.1, batch_first=True)
        self.multihead_attn = nn.MultiheadAttention(C, HEADS, dropout=0.1, batch_first=True)
        self.linear1, self.linear2 = nn.Linear(C, 512), nn.Linear(512, C)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(C), nn.LayerNorm(C), nn.LayerNorm(C)
        self.drop = nn.Dropout(0.1)

    def forward(self, tgt, mem, qp, kpm):
        q = tgt + qp
        tgt = self.norm1(tgt + self.drop(self.self_attn(q, q, q)[0]))
        tgt = self.norm2(tgt + self.drop(self.multihead_attn(tgt + qp, mem, mem, key_padding_mask=kpm)[0]))
        return self.norm3(tgt + self.drop(self.linear2(self.drop(F.relu(self.linear1(tgt))))))


class R3D(nn.Module):
    def __init__(self):
        super().__init__()
        self.input_embed = nn.Linear(D_RGB, C)
        self.depth_projection, self.depth_layernorm = nn.Linear(H * W, C), nn.LayerNorm(C)
        self.fuser = Fuser()
        self.pos_embedding = nn.Parameter(torch.randn(1, 2000, C))
        self.query_embed = nn.Embedding(Q, C)
        self.layer, self.norm = DecoderLayer(), nn.LayerNorm(C)
        self.fc, self.fc_len, self.fc_seg = nn.Linear(C, N), nn.Linear(C, 1), nn.Linear(C, N)

    def forward(self, rgb, depth, kpm=None):
        b, t = rgb.shape[:2]
        r = F.relu(self.input_embed(rgb))
        d = F.relu(self.depth_layernorm(self.depth_projection(depth.reshape(b, t, -1))))
        fused = self.fuser(r, d)
        mem = fused + self.pos_embedding[:, :t]
        qp = self.query_embed.weight.unsqueeze(0).expand(b, -1, -1)
        tgt = self.norm(self.layer(torch.zeros_like(qp), mem, qp, kpm))
        return self.fc(tgt), self.fc_len(tgt).squeeze(-1), self.fc_seg(fused)


def loss_fn(out, labels, actions, durs):
    action, dur, seg = out
    segl = F.cross_entropy(seg.reshape(-1, N), labels.reshape(-1).clamp(max=N - 1), reduction='none')
    segl = (segl * (labels.reshape(-1) != PAD)).sum() / labels.numel()
    actl = F.cross_entropy(action.reshape(-1, N), actions.reshape(-1).clamp(max=N - 1), reduction='none')
    actl = (actl * (actions.reshape(-1) != PAD) * 10).sum() / actions.numel()
    mask = (durs != PAD).float()
    p = F.normalize(torch.exp(dur) * mask, p=1, dim=-1)
    return segl + actl + ((p - durs * mask) ** 2).sum() / mask.sum()


def build(threads):
    """The training step and the evaluation forward of the bench, ready to call."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = R3D()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=5e-3)  # the trainer's optimiser
    B, T = 8, 100
    rgb, depth = torch.rand(B, T, D_RGB), torch.rand(B, T, H, W)
    labels = torch.randint(0, N, (B, T))
    actions, durs = torch.randint(0, N, (B, Q)), torch.full((B, Q), 1.0 / Q)
    kpm = torch.zeros(B, T, dtype=torch.bool)
    rgb1, depth1 = torch.rand(1, 300, D_RGB), torch.rand(1, 300, H, W)

    def step():
        model.train()
        opt.zero_grad()
        loss = loss_fn(model(rgb, depth, kpm), labels, actions, durs)
        loss.backward()
        opt.step()

    def evaluate():
        model.eval()
        with torch.no_grad():
            model(rgb1, depth1)

    for _ in range(2):  # warm-up: allocator, optimiser state
        step()
        evaluate()
    return step, evaluate


def timed_once(fn):
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def serve(threads):
    """Times one run per request line ('train' or 'eval') and answers with its ms, so the bench can
    alternate the two sides run by run and a machine that slows down mid-bench slows both."""
    step, evaluate = build(threads)
    print(json.dumps({'ready': True, 'torch': torch.__version__, 'threads': threads}), flush=True)
    for line in sys.stdin:
        what = line.strip()
        if what == 'quit':
            break
        print(json.dumps({'ms': timed_once(step if what == 'train' else evaluate)}), flush=True)


if __name__ == '__main__':
    if sys.argv[1:2] != ['--serve']:
        sys.exit('usage: peer.py --serve THREADS')
    serve(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
