"""Part two of the demo: a small CNN and an MLP learn scikit-learn's handwritten digits.

1,797 8x8 images ship inside scikit-learn, so nothing is downloaded. Each model trains with
a tqdm bar per epoch (loss and accuracy), reports test accuracy, is saved as a safetensors
checkpoint, reloaded into a fresh model that must predict the same, and the run writes a
loss/accuracy plot (PNG) and the autograd graph of one training step (DOT, and SVG when
Graphviz's ``dot`` is installed).
"""

from __future__ import annotations

import os
import sys
import time

import bibun
from bibun import nn
from bibun.autograd.graphviz import make_dot, render
from bibun.utils.data import DataLoader, TensorDataset, random_split

CNN_TARGET = 0.97


def _need(module, extra="demo"):
    try:
        return __import__(module)
    except ImportError:
        raise SystemExit(f"the digits demo needs {module}: pip install 'bibun[{extra}]' "
                         f"(or python -m pip install -r requirements-dev.txt)") from None


def load_digits(device):
    """Images scaled to [0, 1] as (N, 1, 8, 8) float32, labels as int64."""
    _need("sklearn")
    from sklearn.datasets import load_digits as sk_load
    data = sk_load()
    images = bibun.tensor(data.images / 16.0, dtype=bibun.float32, device=device).unsqueeze(1)
    labels = bibun.tensor(data.target, dtype=bibun.int64, device=device)
    return images, labels


def make_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 4 x 4
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 32 x 2 x 2
        nn.Flatten(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


def make_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))


def accuracy(model, images, labels, batch=512):
    model.eval()
    correct = 0
    with bibun.no_grad():
        for i in range(0, len(labels), batch):
            correct += int((model(images[i:i + batch]).argmax(1) == labels[i:i + batch]).sum())
    return correct / len(labels)


def fit(name, model, train, test, epochs, lr, progress, seed):
    """Train with Adam, a cosine learning-rate schedule and cross-entropy; returns the per-epoch history."""
    tqdm = _need("tqdm").tqdm
    optimizer = bibun.optim.Adam(model.parameters(), lr=lr)
    scheduler = bibun.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(*train), batch_size=32, shuffle=True,
                        generator=bibun.Generator().manual_seed(seed))
    history = {"loss": [], "train_acc": [], "test_acc": []}
    for epoch in range(1, epochs + 1):
        model.train()
        total_loss, correct, seen = 0.0, 0, 0
        bar = tqdm(loader, desc=f"{name} epoch {epoch:2d}/{epochs}", unit="batch", leave=False,
                   disable=not progress, file=sys.stderr, dynamic_ncols=True)
        for xb, yb in bar:
            optimizer.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            n = len(yb)
            total_loss += loss.item() * n
            correct += int((logits.argmax(1) == yb).sum())
            seen += n
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.3f}")
        bar.close()
        scheduler.step()
        history["loss"].append(total_loss / seen)
        history["train_acc"].append(correct / seen)
        history["test_acc"].append(accuracy(model, *test))
        if progress or epoch == epochs:
            print(f"{name} epoch {epoch:2d}/{epochs}: loss={history['loss'][-1]:.4f} "
                  f"train acc={history['train_acc'][-1]:.3f} test acc={history['test_acc'][-1]:.3f}")
    return optimizer, history


def checkpoint_round_trip(name, model, optimizer, make, test, path):
    """Save model and optimizer state, load into a fresh model, and compare its predictions."""
    bibun.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    state = bibun.load(path)
    fresh = make().to(test[0].device)
    fresh.load_state_dict(state["model"])
    bibun.optim.Adam(fresh.parameters(), lr=1e-3).load_state_dict(state["optimizer"])
    model.eval()
    fresh.eval()
    with bibun.no_grad():
        same = bibun.equal(model(test[0]), fresh(test[0]))
    size = os.path.getsize(path)
    print(f"{name}: saved {path} ({size / 1024:.1f} KiB), reloaded: "
          f"{'same predictions' if same else 'DIFFERENT predictions'}")
    return same


def plot(histories, path):
    matplotlib = _need("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for (name, h), color in zip(histories.items(), ("tab:blue", "tab:orange")):
        epochs = range(1, len(h["loss"]) + 1)
        ax_loss.plot(epochs, h["loss"], color=color, label=name)
        ax_acc.plot(epochs, h["train_acc"], "--", color=color, label=f"{name} train")
        ax_acc.plot(epochs, h["test_acc"], color=color, label=f"{name} test")
    ax_loss.set(title="training loss (cross-entropy)", xlabel="epoch", yscale="log")
    ax_acc.set(title="accuracy on handwritten digits", xlabel="epoch", ylim=(0.8, 1.0))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle("bibun: a CNN and an MLP on scikit-learn's digits")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_graph(model, images, labels, out_dir):
    """The graph of one training step's loss, as DOT (and SVG when Graphviz is installed)."""
    model.train()
    loss = nn.functional.cross_entropy(model(images[:4]), labels[:4])
    dot = make_dot(loss, params=dict(model.named_parameters()), title="one training step of the digits CNN")
    dot_path = os.path.join(out_dir, "cnn_step_graph.dot")
    with open(dot_path, "w", encoding="utf-8") as f:
        f.write(dot)
    svg_path = dot_path[:-4] + ".svg"
    rendered = render(dot, svg_path)
    print(f"graph of one training step: {dot_path}" + (f" and {svg_path}" if rendered else
                                                         " (install Graphviz's `dot` to render it as SVG)"))


def train_digits(device="cpu", epochs=None, out_dir="bibun-demo", seed=0, progress=True):
    start = time.perf_counter()
    os.makedirs(out_dir, exist_ok=True)
    bibun.manual_seed(seed)
    images, labels = load_digits(device)
    train_set, test_set = random_split(range(len(labels)), [0.8, 0.2], generator=bibun.Generator().manual_seed(seed))
    train_idx = bibun.tensor(list(train_set), device=device)
    test_idx = bibun.tensor(list(test_set), device=device)
    train = (images[train_idx], labels[train_idx])
    test = (images[test_idx], labels[test_idx])
    print(f"== handwritten digits: {len(train_idx)} training and {len(test_idx)} test images of 8x8, on {device} ==")

    histories, results = {}, {}
    for name, make, n_epochs, lr in (("cnn", make_cnn, epochs or 20, 3e-3), ("mlp", make_mlp, epochs or 30, 3e-3)):
        model = make().to(device)
        n_params = sum(p.numel() for p in model.parameters())
        print(f"{name}: {n_params} parameters")
        optimizer, history = fit(name, model, train, test, n_epochs, lr, progress, seed)
        histories[name] = history
        same = checkpoint_round_trip(name, model, optimizer, make, test,
                                     os.path.join(out_dir, f"digits_{name}.safetensors"))
        results[name] = (history["test_acc"][-1], same)
        if name == "cnn":
            write_graph(model, *train, out_dir)
    plot_path = os.path.join(out_dir, "training.png")
    plot(histories, plot_path)
    print(f"plot: {plot_path}")
    cnn_acc, cnn_same = results["cnn"]
    mlp_acc, mlp_same = results["mlp"]
    ok = cnn_acc >= CNN_TARGET and cnn_same and mlp_same
    print(f"test accuracy: cnn {cnn_acc:.4f} (target >= {CNN_TARGET}), mlp {mlp_acc:.4f}; "
          f"{time.perf_counter() - start:.1f} s")
    return {"ok": ok, "cnn_accuracy": cnn_acc, "mlp_accuracy": mlp_acc, "histories": histories}
