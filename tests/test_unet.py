import pytest
import torch

from seaSky.model.factory import build_net
from seaSky.model.unet import UNet, count_parameters


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("up", ["transpose", "bilinear"])
def test_unet_keeps_odd_sizes(depth: int, up: str) -> None:
    net = UNet(depth=depth, base_channels=4, up=up).eval()
    out = net(torch.randn(2, 1, 67, 71))
    assert out.shape == (2, 1, 67, 71)
    assert torch.isfinite(out).all()


def test_unet_channel_arithmetic() -> None:
    net = UNet(in_channels=3, out_channels=2, depth=3, base_channels=8)
    assert [d.conv.block[0].out_channels for d in net.downs] == [16, 32, 64]
    # decoder: transposed conv halves the deep channels, then concatenation with the skip
    assert [u.conv.block[0].in_channels for u in net.ups] == [32 + 32, 16 + 16, 8 + 8]
    assert net(torch.randn(1, 3, 32, 40)).shape == (1, 2, 32, 40)


def test_bilinear_up_channels() -> None:
    net = UNet(depth=2, base_channels=8, up="bilinear")
    assert [u.conv.block[0].in_channels for u in net.ups] == [32 + 16, 16 + 8]


def test_parameter_count_grows_with_width_and_depth() -> None:
    small = UNet(depth=3, base_channels=8)
    wide, deep = UNet(depth=3, base_channels=16), UNet(depth=4, base_channels=8)
    assert count_parameters(small) < count_parameters(wide)
    assert count_parameters(small) < count_parameters(deep)


def test_dropout_is_placed_in_the_deepest_blocks() -> None:
    net = UNet(depth=3, base_channels=4, dropout=0.3)
    assert any(isinstance(m, torch.nn.Dropout2d) for m in net.downs[-1].modules())
    assert not any(isinstance(m, torch.nn.Dropout2d) for m in net.inc.modules())


@pytest.mark.parametrize("kwargs", [{"depth": 0}, {"depth": 7}, {"base_channels": 0}, {"up": "nearest"}])
def test_bad_arguments_raise(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        UNet(**kwargs)


def test_smp_unet_builds_without_download() -> None:
    net = build_net(arch="smp_unet", depth=3, base_channels=8, encoder="resnet18")
    assert net(torch.randn(1, 1, 64, 96)).shape == (1, 1, 64, 96)


def test_unknown_arch() -> None:
    with pytest.raises(ValueError, match="model.arch"):
        build_net(arch="vit")
