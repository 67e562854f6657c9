/* The golden oracle: feeds polygons to COCO's reference C mask API (cocoapi common/maskApi.c,
   not part of detlab) and prints what it computes. Input per line: "h w" then two objects,
   each "npolys {k x0 y0 x1 y1 ...}". Output per line: A string, area, bbox x y w h, B string,
   union string, intersection string, IoU, IoU with B as crowd. */
#include <stdio.h>
#include <stdlib.h>
#include "maskApi.h"
static int read_obj(RLE *out, siz h, siz w) {
  int n; if (scanf("%d", &n) != 1) return 0;
  RLE *parts = malloc(sizeof(RLE) * (n > 0 ? n : 1));
  for (int i = 0; i < n; i++) {
    int k; scanf("%d", &k); double *xy = malloc(sizeof(double) * 2 * k);
    for (int j = 0; j < 2 * k; j++) scanf("%lf", &xy[j]);
    rleFrPoly(&parts[i], xy, k, h, w); free(xy);
  }
  rleMerge(parts, out, n, 0);
  for (int i = 0; i < n; i++) rleFree(&parts[i]);
  free(parts); return 1;
}
int main(void) {
  unsigned long h, w;
  while (scanf("%lu %lu", &h, &w) == 2) {
    RLE a, b, u, in, ab[2]; uint area; double bb[4], iou, ciou; byte crowd = 1;
    read_obj(&a, h, w); read_obj(&b, h, w);
    ab[0] = a; ab[1] = b; rleMerge(ab, &u, 2, 0); rleMerge(ab, &in, 2, 1);
    rleArea(&a, 1, &area); rleToBbox(&a, bb, 1);
    rleIou(&a, &b, 1, 1, NULL, &iou); rleIou(&a, &b, 1, 1, &crowd, &ciou);
    printf("%s %u %.17g %.17g %.17g %.17g %s %s %s %.17g %.17g\n", rleToString(&a), area,
           bb[0], bb[1], bb[2], bb[3], rleToString(&b), rleToString(&u), rleToString(&in), iou, ciou);
  }
  return 0;
}
