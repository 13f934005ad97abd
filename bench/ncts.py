"""NCTS message validation benchmark (see ncts.sh)."""
import argparse, os, random, shutil, subprocess, sys, time

CC015C = """<?xml version="1.0" encoding="UTF-8"?>
<ncts:CC015C xmlns:ncts="http://ncts.dgtaxud.ec" PhaseID="NCTS5.1">
  <messageSender>KZTRADER{n:05d}</messageSender>
  <messageRecipient>NTA.KZ</messageRecipient>
  <preparationDateAndTime>2026-11-28T10:00:00</preparationDateAndTime>
  <messageIdentification>MSG{n:08d}</messageIdentification>
  <messageType>CC015C</messageType>
  <TransitOperation>
    <LRN>KZ-2026-{n:06d}</LRN>
    <declarationType>T1</declarationType>
    <additionalDeclarationType>A</additionalDeclarationType>
    <security>0</security>
    <reducedDatasetIndicator>0</reducedDatasetIndicator>
    <bindingItinerary>1</bindingItinerary>
  </TransitOperation>
  <CustomsOfficeOfDeparture><referenceNumber>KZ000101</referenceNumber></CustomsOfficeOfDeparture>
  <CustomsOfficeOfDestinationDeclared><referenceNumber>GE000301</referenceNumber></CustomsOfficeOfDestinationDeclared>
  <CustomsOfficeOfTransitDeclared>
    <sequenceNumber>1</sequenceNumber>
    <referenceNumber>AZ000201</referenceNumber>
    <arrivalDateAndTimeEstimated>2026-11-30T08:00:00</arrivalDateAndTimeEstimated>
  </CustomsOfficeOfTransitDeclared>
  <HolderOfTheTransitProcedure><identificationNumber>KZ{n:012d}</identificationNumber></HolderOfTheTransitProcedure>
  <Guarantee><sequenceNumber>1</sequenceNumber><guaranteeType>1</guaranteeType></Guarantee>
  <Consignment>
    <countryOfDestination>GE</countryOfDestination>
    <containerIndicator>0</containerIndicator>
    <grossMass>{mass}</grossMass>
    <referenceNumberUCR>KZUCR{n:08d}</referenceNumberUCR>
    <CountryOfRoutingOfConsignment><sequenceNumber>1</sequenceNumber><country>KZ</country></CountryOfRoutingOfConsignment>
    <CountryOfRoutingOfConsignment><sequenceNumber>2</sequenceNumber><country>AZ</country></CountryOfRoutingOfConsignment>
    <CountryOfRoutingOfConsignment><sequenceNumber>3</sequenceNumber><country>GE</country></CountryOfRoutingOfConsignment>
    <PlaceOfLoading><UNLocode>KZALA</UNLocode></PlaceOfLoading>
    <HouseConsignment>
      <sequenceNumber>1</sequenceNumber>
      <grossMass>{mass}</grossMass>
{items}    </HouseConsignment>
  </Consignment>
</ncts:CC015C>
"""

ITEM = """      <ConsignmentItem>
        <goodsItemNumber>{i}</goodsItemNumber>
        <declarationGoodsItemNumber>{i}</declarationGoodsItemNumber>
        <Commodity>
          <descriptionOfGoods>{goods}</descriptionOfGoods>
          <CommodityCode><harmonizedSystemSubHeadingCode>{hs}</harmonizedSystemSubHeadingCode></CommodityCode>
          <GoodsMeasure><grossMass>{m}</grossMass><netMass>{m}</netMass></GoodsMeasure>
        </Commodity>
        <Packaging><sequenceNumber>1</sequenceNumber><typeOfPackages>PK</typeOfPackages><numberOfPackages>{p}</numberOfPackages><shippingMarks>KZ {i}</shippingMarks></Packaging>
      </ConsignmentItem>
"""

CC007C = """<?xml version="1.0" encoding="UTF-8"?>
<ncts:CC007C xmlns:ncts="http://ncts.dgtaxud.ec" PhaseID="NCTS5.1">
  <messageSender>GETRADER{n:05d}</messageSender>
  <messageRecipient>NTA.GE</messageRecipient>
  <preparationDateAndTime>2026-12-01T10:00:00</preparationDateAndTime>
  <messageIdentification>ARR{n:08d}</messageIdentification>
  <messageType>CC007C</messageType>
  <TransitOperation>
    <MRN>26KZ{n:012d}J0</MRN>
    <arrivalNotificationDateAndTime>2026-12-01T09:30:00</arrivalNotificationDateAndTime>
    <simplifiedProcedure>1</simplifiedProcedure>
    <incidentFlag>0</incidentFlag>
  </TransitOperation>
  <Authorisation><sequenceNumber>1</sequenceNumber><type>C522</type><referenceNumber>GEACR{n:05d}</referenceNumber></Authorisation>
  <CustomsOfficeOfDestinationActual><referenceNumber>GE000301</referenceNumber></CustomsOfficeOfDestinationActual>
  <TraderAtDestination><identificationNumber>GE{n:09d}</identificationNumber></TraderAtDestination>
  <Consignment>
    <LocationOfGoods>
      <typeOfLocation>B</typeOfLocation>
      <qualifierOfIdentification>V</qualifierOfIdentification>
      <CustomsOffice><referenceNumber>GE000301</referenceNumber></CustomsOffice>
    </LocationOfGoods>
  </Consignment>
</ncts:CC007C>
"""

def corpus(n_messages, rng):
    goods = ["Cotton yarn", "Wool tops", "Copper cathodes", "Dried apricots", "Polyethylene granules"]
    out = []
    for n in range(n_messages):
        if n % 2 == 0:
            k = rng.randint(1, 60)
            masses = [rng.uniform(10, 900) for _ in range(k)]
            items = "".join(
                ITEM.format(i=i, goods=rng.choice(goods), hs=rng.choice(["520511", "510529", "740311", "081310", "390110"]),
                            m=f"{masses[i - 1]:.3f}", p=rng.randint(1, 40))
                for i in range(1, k + 1))
            # The consignment weighs its items and their packing (R0983, R0994).
            text = CC015C.format(n=n, mass=f"{sum(masses) * 1.05 + 1:.2f}", items=items)
        else:
            text = CC007C.format(n=n)
        valid = True
        if rng.random() < 0.1:
            valid = False
            kind = rng.randrange(4)
            if kind == 0:
                text = text.replace("<messageSender>", "<messageSender>" + "X" * 40, 1)
            elif kind == 1:
                text = text.replace("<messageType>", "<messageTypo>", 1).replace("</messageType>", "</messageTypo>", 1)
            elif kind == 2:
                text = text.replace("<referenceNumber>KZ000101", "<referenceNumber>KZ00010", 1).replace(
                    "<referenceNumber>GE000301", "<referenceNumber>GE00030", 1)
            else:
                text = text.replace("<simplifiedProcedure>1", "<simplifiedProcedure>7", 1).replace(
                    "<security>0", "<security>S", 1)
        out.append((f"m{n:06d}.xml", text, valid))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--xsd", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--messages", type=int, default=2000)
    a = ap.parse_args()
    rng = random.Random(20261128)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    messages = corpus(a.messages, rng)
    paths = []
    for name, text, _ in messages:
        p = os.path.join(a.work, name)
        with open(p, "w") as f:
            f.write(text)
        paths.append(p)
    total_bytes = sum(len(t.encode()) for _, t, _ in messages)
    print(f"corpus: {len(messages)} messages (CC015C with 1-60 items, CC007C), "
          f"{total_bytes / 1e6:.1f} MB, {sum(1 for m in messages if not m[2])} broken")

    # SmartBorder: the whole command (schema load included) on one file and on all; the
    # difference is the checking. Best of three.
    def sb(files):
        best = None
        for _ in range(3):
            t = time.perf_counter()
            r = subprocess.run([a.binary, "ncts", "check", *files], capture_output=True, text=True)
            dt = time.perf_counter() - t
            best = dt if best is None else min(best, dt)
        return best, r.stdout
    t_one, _ = sb(paths[:1])
    t_all, out = sb(paths)
    sb_refused = set()
    for line in out.splitlines():
        if line.startswith(a.work) and " accepted" not in line.split(": ", 1)[1][:20]:
            sb_refused.add(os.path.basename(line.split(":", 1)[0]))
    sb_rate = (len(paths) - 1) / max(t_all - t_one, 1e-9)
    rows = [("SmartBorder (Rust)", t_one, sb_rate, sb_refused)]

    import xmlschema
    t = time.perf_counter()
    schema = xmlschema.XMLSchema11(os.path.join(a.xsd, "cc015c.xsd"))
    schema007 = xmlschema.XMLSchema11(os.path.join(a.xsd, "cc007c.xsd"))
    load = time.perf_counter() - t
    refused = set()
    t = time.perf_counter()
    for (name, text, _), p in zip(messages, paths):
        s = schema if "CC015C" in text[:200] else schema007
        if not s.is_valid(p):
            refused.add(name)
    rows.append(("xmlschema 4 (Python, XSD 1.1)", load, len(paths) / (time.perf_counter() - t), refused))

    from lxml import etree
    t = time.perf_counter()
    lx015 = etree.XMLSchema(etree.parse(os.path.join(a.xsd, "cc015c.xsd")))
    lx007 = etree.XMLSchema(etree.parse(os.path.join(a.xsd, "cc007c.xsd")))
    load = time.perf_counter() - t
    refused = set()
    t = time.perf_counter()
    for (name, text, _), p in zip(messages, paths):
        s = lx015 if "CC015C" in text[:200] else lx007
        if not s.validate(etree.parse(p)):
            refused.add(name)
    rows.append(("lxml 5 / libxml2 (C, XSD 1.0)", load, len(paths) / (time.perf_counter() - t), refused))

    expected = {name for name, _, valid in messages if not valid}
    print()
    print("| validator | schema load s | messages/s | MB/s | x SmartBorder | refused | agrees with the corpus |")
    print("|---|---|---|---|---|---|---|")
    for name, load, rate, refused in rows:
        print(f"| {name} | {load:.2f} | {rate:,.0f} | {rate * total_bytes / len(paths) / 1e6:.1f} | "
              f"{rate / sb_rate:.2f} | {len(refused)} | {'yes' if refused == expected else 'NO: ' + str(sorted(refused ^ expected)[:5])} |")
    print("\nSmartBorder's schema load is the whole command on one file (process start included); "
          "its rate is (messages - 1) / (time for all - time for one), and it also checks the business rules.")
    if any(refused != expected for _, _, _, refused in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
