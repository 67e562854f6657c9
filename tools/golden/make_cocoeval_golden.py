# Regenerates tests/golden/cocoeval/: small COCO ground truth + scored results, and
# what pycocotools' COCOeval reports for them (bbox and segm).
# Usage: /usr/bin/python3 tools/golden/make_cocoeval_golden.py   (needs pycocotools;
# see tests/golden/cocoeval/README.md for how the committed files were made).
# Seeded: rerunning reproduces the files byte for byte.
import json, os, random
import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from pycocotools import mask as maskUtils

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '../..')
OUT = os.path.join(ROOT, 'tests/golden/cocoeval')
rng = random.Random(7)

CATS = [{'id': 1, 'name': 'shirt'}, {'id': 3, 'name': 'bag'}, {'id': 4, 'name': 'boot'},
        {'id': 7, 'name': 'only_crowd'}, {'id': 9, 'name': 'no_gt'}]

def r2(v):
    return round(v, 2)

def rand_box(W, H, size_class):
    lo, hi = {'s': (4, 30), 'm': (34, 90), 'l': (100, 150)}[size_class]
    w = rng.uniform(lo, hi); h = rng.uniform(lo, hi)
    w = min(w, W - 1); h = min(h, H - 1)
    return [r2(rng.uniform(0, W - w)), r2(rng.uniform(0, H - h)), r2(w), r2(h)]

def jitter(b, amount):
    x, y, w, h = b
    return [r2(x + rng.uniform(-amount, amount) * w), r2(y + rng.uniform(-amount, amount) * h),
            r2(max(1.0, w * (1 + rng.uniform(-amount, amount)))),
            r2(max(1.0, h * (1 + rng.uniform(-amount, amount))))]

def score():
    s = rng.random()
    return round(s, 1) if rng.random() < 0.3 else s  # some ties

def make_bbox_case():
    images, anns, results = [], [], []
    for i in range(8):
        W, H = rng.choice([(200, 160), (240, 180), (160, 160)])
        images.append({'id': 10 + 3 * i, 'file_name': 'img%d.png' % i, 'width': W, 'height': H})
    ann_id = 1
    for im in images:
        W, H = im['width'], im['height']
        if im['id'] == 13:
            continue  # an image without ground truth (detections only)
        for cat in (1, 3, 4):
            for _ in range(rng.randint(0, 4)):
                b = rand_box(W, H, rng.choice('ssmml'))
                area = r2(b[2] * b[3] * rng.uniform(0.55, 1.0))  # a mask's area, not the box's
                anns.append({'id': ann_id, 'image_id': im['id'], 'category_id': cat, 'bbox': b,
                             'area': area, 'iscrowd': 0}); ann_id += 1
            if rng.random() < 0.3:
                b = rand_box(W, H, 'l')
                anns.append({'id': ann_id, 'image_id': im['id'], 'category_id': cat, 'bbox': b,
                             'area': r2(b[2] * b[3] * 0.7), 'iscrowd': 1}); ann_id += 1
        if rng.random() < 0.5:
            b = rand_box(W, H, 'm')
            anns.append({'id': ann_id, 'image_id': im['id'], 'category_id': 7, 'bbox': b,
                         'area': r2(b[2] * b[3]), 'iscrowd': 1}); ann_id += 1
    # Areas exactly on the range borders (both ranges include them).
    anns.append({'id': ann_id, 'image_id': 10, 'category_id': 1, 'bbox': [5, 5, 32, 32],
                 'area': 1024.0, 'iscrowd': 0}); ann_id += 1
    anns.append({'id': ann_id, 'image_id': 16, 'category_id': 3, 'bbox': [50, 40, 96, 96],
                 'area': 9216.0, 'iscrowd': 0}); ann_id += 1
    for a in anns:
        if rng.random() < 0.8:
            results.append({'image_id': a['image_id'], 'category_id': a['category_id'],
                            'bbox': jitter(a['bbox'], rng.choice([0.03, 0.1, 0.25])), 'score': score()})
        if rng.random() < 0.25:  # duplicate
            results.append({'image_id': a['image_id'], 'category_id': a['category_id'],
                            'bbox': jitter(a['bbox'], 0.08), 'score': score()})
        if a['iscrowd'] and rng.random() < 0.8:  # several detections inside a crowd region
            x, y, w, h = a['bbox']
            for _ in range(3):
                results.append({'image_id': a['image_id'], 'category_id': a['category_id'],
                                'bbox': [r2(x + w * 0.1), r2(y + h * 0.1), r2(w * 0.3), r2(h * 0.3)],
                                'score': score()})
    for im in images:  # false positives, also for the category without ground truth
        for _ in range(rng.randint(0, 4)):
            results.append({'image_id': im['id'], 'category_id': rng.choice([1, 3, 4, 7, 9]),
                            'bbox': rand_box(im['width'], im['height'], rng.choice('sml')),
                            'score': score()})
    # One image with more than 100 detections of one category (maxDets truncation).
    for _ in range(130):
        results.append({'image_id': 19, 'category_id': 4,
                        'bbox': rand_box(200, 160, rng.choice('sm')), 'score': rng.random() * 0.9})
    rng.shuffle(results)
    gt = {'images': images, 'categories': CATS, 'annotations': anns}
    return gt, results

def encode(mask):
    flat = mask.T.flatten()  # COCO runs go down the columns
    counts, val, run = [], 0, 0
    for v in flat:
        if v != val:
            counts.append(run); run = 0; val = v
        run += 1
    counts.append(run)
    return {'size': [int(mask.shape[0]), int(mask.shape[1])], 'counts': [int(c) for c in counts]}

def blob(H, W, cx, cy, rx, ry, rect):
    yy, xx = np.mgrid[0:H, 0:W]
    if rect:
        m = (np.abs(xx + 0.5 - cx) <= rx) & (np.abs(yy + 0.5 - cy) <= ry)
    else:
        m = ((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2 <= 1
    return m.astype(np.uint8)

def bbox_of(m):
    ys, xs = np.nonzero(m)
    return [float(xs.min()), float(ys.min()), float(xs.max() - xs.min() + 1), float(ys.max() - ys.min() + 1)]

def make_segm_case():
    images, anns, results = [], [], []
    H, W = 128, 128
    for i in range(4):
        images.append({'id': i + 1, 'file_name': 's%d.png' % i, 'width': W, 'height': H})
    ann_id = 1
    masks = []
    for im in images:
        for cat in (1, 3, 4):
            for _ in range(rng.randint(0, 3)):
                r = rng.choice([rng.uniform(3, 15), rng.uniform(20, 45), rng.uniform(58, 64)])
                m = blob(H, W, rng.uniform(r, W - r), rng.uniform(r, H - r), r * rng.uniform(0.7, 1.0),
                         r * rng.uniform(0.7, 1.0), rng.random() < 0.5)
                if m.sum() == 0:
                    continue
                crowd = 1 if rng.random() < 0.12 else 0
                anns.append({'id': ann_id, 'image_id': im['id'], 'category_id': cat,
                             'segmentation': encode(m), 'bbox': bbox_of(m), 'area': float(m.sum()),
                             'iscrowd': crowd}); ann_id += 1
                masks.append((im['id'], cat, m, crowd))
    for (img, cat, m, crowd) in masks:
        for _ in range(3 if crowd else (1 if rng.random() < 0.8 else 0) + (rng.random() < 0.25)):
            d = np.roll(m, (rng.randint(-4, 4), rng.randint(-4, 4)), axis=(0, 1))
            if crowd:
                ys, xs = np.nonzero(m)
                j = rng.randrange(len(xs))
                d = blob(H, W, xs[j] + 0.5, ys[j] + 0.5, 4, 4, True) & m
            if d.sum() == 0:
                continue
            results.append({'image_id': img, 'category_id': cat, 'segmentation': encode(d), 'score': score()})
    for im in images:
        for _ in range(rng.randint(1, 3)):
            r = rng.uniform(4, 40)
            d = blob(H, W, rng.uniform(r, W - r), rng.uniform(r, H - r), r, r * 0.8, False)
            results.append({'image_id': im['id'], 'category_id': rng.choice([1, 3, 4, 9]),
                            'segmentation': encode(d), 'score': score()})
    rng.shuffle(results)
    return {'images': images, 'categories': CATS, 'annotations': anns}, results

def run(name, iou_type, gt, results):
    gt_path = os.path.join(OUT, name + '_gt.json')
    res_path = os.path.join(OUT, name + '_results.json')
    with open(gt_path, 'w') as f:
        json.dump(gt, f)
    with open(res_path, 'w') as f:
        json.dump(results, f)
    coco = COCO(gt_path)
    E = COCOeval(coco, coco.loadRes(res_path), iou_type)
    E.evaluate(); E.accumulate(); E.summarize()
    prec = E.eval['precision']; rec = E.eval['recall']
    K = prec.shape[2]
    def mean_valid(s):
        s = s[s > -1]
        return float(np.mean(s)) if len(s) else -1.0
    expected = {
        'iou_type': iou_type,
        'stats': [float(v) for v in E.stats],
        'category_ids': [int(c) for c in E.params.catIds],
        'class_ap': [mean_valid(prec[:, :, k, 0, 2]) for k in range(K)],
        'class_ap50': [mean_valid(prec[0, :, k, 0, 2]) for k in range(K)],
        'precision_iou50_all_100': [[float(v) for v in prec[0, :, k, 0, 2]] for k in range(K)],
        'recall_all_100': [[float(rec[t, k, 0, 2]) for k in range(K)] for t in range(rec.shape[0])],
    }
    with open(os.path.join(OUT, name + '_expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
    print(name, ' '.join('%.4f' % v for v in E.stats))

os.makedirs(OUT, exist_ok=True)
gt, res = make_bbox_case()
run('bbox', 'bbox', gt, res)
gt, res = make_segm_case()
run('segm', 'segm', gt, res)
# The same masks with boxes (padded, so box area != mask area): loadRes then takes the
# detection's area from the box.
for r in res:
    b = maskUtils.toBbox(r['segmentation'])
    r['bbox'] = [float(b[0]) - 3, float(b[1]) - 3, float(b[2]) + 6, float(b[3]) + 6]
run('segm_with_boxes', 'segm', gt, res)
