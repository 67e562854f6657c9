// Golden dumps of face-api's own JavaScript for detlab's face networks (bin/faces,
// tests/test_faces.cpp). Runs offline under Debian's Node.js with tfjs's plain CPU
// backend (no native add-ons):
//   cd tools/golden/faceapi && npm ci        # the pinned packages of package-lock.json
//   bin/image_to_ppm <photos> --out /tmp/ppm # pixels exactly as detlab decodes them
//   node tools/golden/faceapi/make_faceapi_golden.mjs data/pretrained/face-api /tmp/ppm tests/golden/faces
// For each photo and network it writes OUT/<photo>.<net>.json: the raw output tensor
// (tfjs's NHWC layout, 7 significant digits; for the SSD's 5118 boxes a subset), the
// decoded boxes and scores after NMS.
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';

const require = createRequire(import.meta.url);
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const tf = faceapi.tf;

const [modelDir, ppmDir, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: make_faceapi_golden.mjs MODEL_DIR PPM_DIR OUT_DIR');
  process.exit(2);
}

function readPpm(file) {
  const b = fs.readFileSync(file);
  const header = b.subarray(0, 64).toString('latin1').split(/\s+/);
  if (header[0] !== 'P6') throw new Error(`${file}: not a binary PPM`);
  const [w, h] = [Number(header[1]), Number(header[2])];
  const data = b.subarray(b.length - w * h * 3);
  return tf.tensor3d(new Int32Array(data), [h, w, 3], 'int32');
}

function loadWeights(name) {
  const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, `${name}-weights_manifest.json`)));
  const map = {};
  for (const group of manifest) {
    const buffers = group.paths.map((p) => fs.readFileSync(path.join(modelDir, p)));
    const all = Buffer.concat(buffers);
    const ab = all.buffer.slice(all.byteOffset, all.byteOffset + all.length);
    Object.assign(map, tf.io.decodeWeights(ab, group.weights));
  }
  return map;
}

const g7 = (v) => Number(v.toPrecision(7));
const boxJson = (d) => ({ x1: d.box.x, y1: d.box.y, x2: d.box.x + d.box.width, y2: d.box.y + d.box.height, score: d.score });

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  const tiny = new faceapi.TinyFaceDetector();
  tiny.loadFromWeightMap(loadWeights('tiny_face_detector_model'));
  const ssd = new faceapi.SsdMobilenetv1();
  ssd.loadFromWeightMap(loadWeights('ssd_mobilenetv1_model'));
  const lm = new faceapi.FaceLandmark68Net();
  lm.loadFromWeightMap(loadWeights('face_landmark_68_model'));
  fs.mkdirSync(outDir, { recursive: true });
  const photos = fs.readdirSync(ppmDir).filter((f) => f.endsWith('.ppm')).sort();
  for (const f of photos) {
    const stem = f.replace(/\.ppm$/, '');
    const img = readPpm(path.join(ppmDir, f));
    const [h, w] = img.shape;
    const opts = new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 });
    const raw = await tiny.forward(img, 416);
    const dets = await tiny.locateFaces(img, opts);
    const out = {
      source: 'face-api 1.7.15 TinyFaceDetector, tfjs 4.22.0 cpu backend',
      image: stem, width: w, height: h, input_size: 416, score_threshold: 0.5,
      raw_shape: raw.shape, raw_layout: 'NHWC', raw: Array.from(raw.dataSync(), g7),
      detections: dets.map(boxJson),
    };
    raw.dispose();
    fs.writeFileSync(path.join(outDir, `${stem}.tiny_face_detector.json`), JSON.stringify(out) + '\n');
    console.log(`${stem}: ${dets.length} faces (tiny)`);

    // SSD: 5118 default boxes. Stored: the 200 best-scoring boxes (index, score, decoded
    // corners ymin, xmin, ymax, xmax) and every 10th box's score.
    const { boxes, scores } = await ssd.forward(img);
    const s = Array.from(scores[0].dataSync());
    const b = boxes[0].arraySync();
    const order = s.map((v, i) => i).sort((i, j) => s[j] - s[i] || i - j).slice(0, 200);
    const ssdDets = await ssd.locateFaces(img, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 100 }));
    fs.writeFileSync(path.join(outDir, `${stem}.ssd_mobilenetv1.json`), JSON.stringify({
      source: 'face-api 1.7.15 SsdMobilenetv1, tfjs 4.22.0 cpu backend',
      image: stem, width: w, height: h, input_size: 512, score_threshold: 0.5, iou_threshold: 0.5,
      best: order.map((i) => ({ index: i, score: g7(s[i]), box: b[i].map(g7) })),
      every_10th_score: s.filter((v, i) => i % 10 === 0).map(g7),
      detections: ssdDets.map(boxJson),
    }) + '\n');
    boxes.forEach((t) => t.dispose());
    scores.forEach((t) => t.dispose());
    console.log(`${stem}: ${ssdDets.length} faces (ssd)`);

    // 68 landmarks on each face the SSD found and on each the tiny detector found: the
    // crop face-api takes (box clipped at the borders, floored), the net's raw 136
    // outputs, and the points in the photo's pixels.
    const faces = [];
    for (const [detector, list] of [['ssd', ssdDets], ['tiny', dets]]) {
      for (const d of list) {
        const crop = d.box.clipAtImageBorders(w, h);
        const [faceTensor] = await faceapi.extractFaceTensors(img, [d]);
        const netInput = await faceapi.toNetInput(faceTensor);
        const rawOut = tf.tidy(() => lm.runNet(netInput));
        const marks = await lm.detectLandmarks(faceTensor);
        faces.push({
          detector, box: boxJson(d), crop: [crop.x, crop.y, crop.width, crop.height],
          raw: Array.from(rawOut.dataSync(), g7),
          points: marks.shiftBy(crop.x, crop.y).positions.map((p) => [p.x, p.y]),
        });
        rawOut.dispose();
        faceTensor.dispose();
      }
    }
    fs.writeFileSync(path.join(outDir, `${stem}.face_landmark_68.json`), JSON.stringify({
      source: 'face-api 1.7.15 FaceLandmark68Net, tfjs 4.22.0 cpu backend',
      image: stem, width: w, height: h, input_size: 112, faces,
    }) + '\n');
    img.dispose();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
