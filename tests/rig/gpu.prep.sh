# The picture for the gpu check (tests/rig/gpu.json: 1280x800): rows of
# B, G, R, X bytes (XRGB8888 as the guest's dumb buffer takes it), X = 0;
# every pixel differs from its neighbours. The host side compares the
# snapshot with the same file.
python3 - "$RIG_WORK/gpu-pattern.bin" <<'PY'
import sys
w, h = 1280, 800
out = bytearray(w * h * 4)
for y in range(h):
    for x in range(w):
        i = (y * w + x) * 4
        out[i] = (x ^ y) & 255            # B
        out[i + 1] = (y * 3 + x // 5) & 255  # G
        out[i + 2] = (x * 7 + y) & 255    # R
open(sys.argv[1], "wb").write(out)
PY
cp "$RIG_WORK/gpu-pattern.bin" "$RIG_ROOT/rig/gpu-pattern.bin"
# The guest program that draws it (static: the guest has no C library).
gcc -O2 -Wall -Wextra -Werror -static -I/usr/include/libdrm \
	-o "$RIG_ROOT/rig/gpu-draw" "$SRC/tests/rig/gpu_draw.c"
