# Regenerates tests/golden/coco/polygons.json. Usage: make_polygons_golden.py PATH/TO/oracle
# (oracle = oracle.c linked with cocoapi's common/maskApi.c; see README.md).
import json, os, random, subprocess, sys
from fractions import Fraction
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../..')
ORACLE = sys.argv[1] if len(sys.argv) > 1 else './oracle'
rng = random.Random(2024)
cases = []
ann = json.load(open(os.path.join(ROOT, 'data/samples/labelme/annotations.json')))
sizes = {im['id']: (im['height'], im['width']) for im in ann['images']}
anns = ann['annotations']
for i, a in enumerate(anns):
    h, w = sizes[a['image_id']]
    other = [b for b in anns if b['image_id'] == a['image_id'] and b['id'] != a['id']][0]
    cases.append({'source': 'labelme annotation %d' % a['id'], 'h': h, 'w': w,
                  'a': a['segmentation'], 'b': other['segmentation']})
def rand_poly(h, w, kind, rng=rng, min_k=3, max_k=9):
    k = rng.randint(min_k, max_k)
    pts = []
    for _ in range(k):
        if kind == 0:   # arbitrary doubles, partly outside the image
            pts += [rng.uniform(-4, w + 4), rng.uniform(-4, h + 4)]
        elif kind == 1: # integers: vertices on pixel borders
            pts += [float(rng.randint(0, w)), float(rng.randint(0, h))]
        else:           # multiples of 0.1: rounding ties on the 5x grid
            pts += [rng.randint(-10, 10 * w + 10) / 10.0, rng.randint(-10, 10 * h + 10) / 10.0]
    return pts
for i in range(60):
    h, w = rng.randint(1, 48), rng.randint(1, 48)
    cases.append({'source': 'random %d' % i, 'h': h, 'w': w,
                  'a': [rand_poly(h, w, i % 3) for _ in range(rng.randint(1, 2))],
                  'b': [rand_poly(h, w, (i + 1) % 3)]})
# Self-intersecting polygons (8..12 random vertices almost always cross themselves), from
# their own generator so the cases above stay as they were: where the boundary crosses a
# pixel column several times, the toggles must cancel as maskApi's sorted runs do.
# Each polygon A has an edge point where (int)(ys + s*t + .5) -- maskApi's rounding onto
# the 5x grid -- comes out differently when s*t + ys is fused into one multiply-add (one
# rounding, emulated exactly with fractions) than with two roundings, as maskApi is built.
# A build with contraction on (GCC's default with -march=native) fails these cases.
def fma_sensitive(poly):
    x = [int(5 * v + .5) for v in poly[0::2]]  # int() truncates toward zero, as C does
    y = [int(5 * v + .5) for v in poly[1::2]]
    x.append(x[0]); y.append(y[0])
    for j in range(len(x) - 1):
        xs, xe, ys, ye = x[j], x[j + 1], y[j], y[j + 1]
        dx, dy = abs(xe - xs), abs(ys - ye)
        if (dx >= dy and xs > xe) or (dx < dy and ys > ye):
            xs, xe, ys, ye = xe, xs, ye, ys
        n, a, b = (dx, ys, ye - ys) if dx >= dy else (dy, xs, xe - xs)
        if n == 0:
            continue
        s = b / n
        for t in range(n + 1):
            fused = float(Fraction(s) * t + a)
            if int(fused + .5) != int(a + s * t + .5):
                return True
    return False
rng_x = random.Random(2026)
while len(cases) < 172:
    i = len(cases) - 72
    h, w = rng_x.randint(1, 48), rng_x.randint(1, 48)
    a = rand_poly(h, w, i % 3, rng_x, 8, 12)
    if not fma_sensitive(a):
        continue
    cases.append({'source': 'self-intersecting %d' % i, 'h': h, 'w': w,
                  'a': [a], 'b': [rand_poly(h, w, (i + 1) % 3, rng_x, 8, 12)]})
def fmt(polys):
    return '%d ' % len(polys) + ' '.join('%d %s' % (len(p) // 2, ' '.join(repr(v) for v in p)) for p in polys)
inp = ''.join('%d %d %s %s\n' % (c['h'], c['w'], fmt(c['a']), fmt(c['b'])) for c in cases)
out = subprocess.run([ORACLE], input=inp, capture_output=True, text=True, check=True).stdout.split('\n')
for c, line in zip(cases, out):
    f = line.split(' ')
    c.update({'a_counts': f[0], 'a_area': int(f[1]), 'a_bbox': [float(v) for v in f[2:6]],
              'b_counts': f[6], 'union_counts': f[7], 'inter_counts': f[8],
              'iou': float(f[9]), 'iou_crowd': float(f[10])})
doc = {'generator': 'cocodataset/cocoapi common/maskApi.c (rleFrPoly, rleMerge, rleToString, '
                    'rleArea, rleToBbox, rleIou), compiled outside the project; see tests/golden/coco/README.md',
       'cases': cases}
with open(os.path.join(ROOT, 'tests/golden/coco/polygons.json'), 'w') as f:
    f.write('{"generator": %s,\n "cases": [\n' % json.dumps(doc['generator']))
    f.write(',\n'.join(json.dumps(c) for c in cases))
    f.write('\n]}\n')
print(len(cases), 'cases')
